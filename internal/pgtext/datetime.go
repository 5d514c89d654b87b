package pgtext

import "time"

// DateTime is a date, time of day or both as written, before any time
// zone is applied, or one of the infinities (Inf ±1, nothing else set).
type DateTime struct {
	Year                        int  // as written: 1 or more
	BC                          bool // the year is before 1: 1 BC is year 0 in time.Time
	Month, Day                  int
	Hour, Minute, Second, Micro int
	HasZone                     bool
	Zone                        int // seconds east of UTC
	Inf                         int
}

// Layout says which parts a date and time text holds.
type Layout uint8

const (
	Date        Layout = iota // YYYY-MM-DD[ BC]
	Timestamp                 // YYYY-MM-DD HH:MM:SS[.ffffff][ BC]
	TimestampTZ               // YYYY-MM-DD HH:MM:SS[.ffffff]±HH[:MM[:SS]][ BC]
)

// Strictness says which spellings a parser takes.
type Strictness bool

const (
	// Exact takes only what PostgreSQL's output functions write.
	Exact Strictness = false
	// Lenient also takes what other tools write: a 'T' between date and
	// time, "Z" for UTC, up to nine fractional digits (cut to
	// microseconds).
	Lenient Strictness = true
)

// ParseDateTime reads date_out, timestamp_out and timestamptz_out's text
// in DateStyle ISO: "infinity", "-infinity" or the layout's form, where
// the year has four or more digits and BC follows the offset. The offset
// of a timestamptz is the dump session's time zone (seconds appear for
// local mean time before a zone's first standard offset, e.g.
// +05:53:28); a date that does not exist (31 April) is refused.
func ParseDateTime(b []byte, layout Layout, s Strictness) (DateTime, bool) {
	switch string(b) {
	case "infinity":
		return DateTime{Inf: 1}, true
	case "-infinity":
		return DateTime{Inf: -1}, true
	}
	var d DateTime
	if n := len(b); n > 3 && string(b[n-3:]) == " BC" {
		d.BC, b = true, b[:n-3]
	}
	p := cursor{b: b}
	var ok1, ok2, ok3, ok4, ok5 bool
	d.Year, ok1 = p.digits(4, 7)
	ok2 = p.byte('-')
	d.Month, ok3 = p.digits(2, 2)
	ok4 = p.byte('-')
	d.Day, ok5 = p.digits(2, 2)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		return DateTime{}, false
	}
	if layout != Date {
		if !p.byte(' ') && !(s == Lenient && p.byte('T')) {
			return DateTime{}, false
		}
		if !p.clock(&d, s) || d.Hour > 23 {
			return DateTime{}, false
		}
		if layout == TimestampTZ && !p.zone(&d, s) {
			return DateTime{}, false
		}
	}
	if !p.done() || d.Year == 0 || d.Month < 1 || d.Month > 12 || d.Day < 1 || d.Day > DaysIn(d.Month, d.astronomicalYear()) {
		return DateTime{}, false
	}
	return d, true
}

// ParseTime reads time_out's text HH:MM:SS[.ffffff]; 24:00:00 is a
// valid time.
func ParseTime(b []byte, s Strictness) (DateTime, bool) {
	var d DateTime
	p := cursor{b: b}
	if !p.clock(&d, s) || !p.done() {
		return DateTime{}, false
	}
	return d, true
}

// ParseTimeTZ reads timetz_out's text: a time and its offset.
func ParseTimeTZ(b []byte, s Strictness) (DateTime, bool) {
	var d DateTime
	p := cursor{b: b}
	if !p.clock(&d, s) || !p.zone(&d, s) || !p.done() {
		return DateTime{}, false
	}
	return d, true
}

// Micros is a time of day as microseconds since midnight.
func (d DateTime) Micros() int64 {
	return ((int64(d.Hour)*60+int64(d.Minute))*60+int64(d.Second))*1_000_000 + int64(d.Micro)
}

// Time is d in UTC: its offset, if any, applied.
func (d DateTime) Time() time.Time {
	t := time.Date(d.astronomicalYear(), time.Month(d.Month), d.Day, d.Hour, d.Minute, d.Second, d.Micro*1000, time.UTC)
	return t.Add(-time.Duration(d.Zone) * time.Second)
}

// astronomicalYear is the year as time.Time counts it: 1 BC is year 0.
func (d DateTime) astronomicalYear() int {
	if d.BC {
		return 1 - d.Year
	}
	return d.Year
}

// DaysIn is the number of days of a month of the proleptic Gregorian
// calendar, as PostgreSQL counts them.
func DaysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// cursor reads fixed-format text from the front.
type cursor struct {
	b []byte
	i int
}

func (p *cursor) done() bool { return p.i == len(p.b) }

func (p *cursor) byte(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// digits reads between least and most decimal digits.
func (p *cursor) digits(least, most int) (int, bool) {
	n, start := 0, p.i
	for p.i < len(p.b) && p.i-start < most && isDigit(p.b[p.i]) {
		n = n*10 + int(p.b[p.i]-'0')
		p.i++
	}
	return n, p.i-start >= least
}

// clock reads HH:MM:SS[.ffffff] (nine fractional digits when lenient, cut
// to microseconds); an hour of 24 only as 24:00:00.
func (p *cursor) clock(d *DateTime, s Strictness) bool {
	var ok1, ok2, ok3, ok4, ok5 bool
	d.Hour, ok1 = p.digits(2, 2)
	ok2 = p.byte(':')
	d.Minute, ok3 = p.digits(2, 2)
	ok4 = p.byte(':')
	d.Second, ok5 = p.digits(2, 2)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || d.Minute > 59 || d.Second > 59 {
		return false
	}
	if p.byte('.') {
		most := 6
		if s == Lenient {
			most = 9
		}
		start := p.i
		frac, ok := p.digits(1, most)
		if !ok {
			return false
		}
		for n := p.i - start; n < 6; n++ {
			frac *= 10
		}
		for n := p.i - start; n > 6; n-- {
			frac /= 10
		}
		d.Micro = frac
	}
	if d.Hour == 24 {
		return d.Minute == 0 && d.Second == 0 && d.Micro == 0
	}
	return d.Hour < 24
}

// zone reads ±HH[:MM[:SS]] (or, lenient, "Z") as seconds east of UTC.
func (p *cursor) zone(d *DateTime, s Strictness) bool {
	sign := 1
	switch {
	case s == Lenient && p.byte('Z'):
		d.HasZone = true
		return true
	case p.byte('+'):
	case p.byte('-'):
		sign = -1
	default:
		return false
	}
	h, ok := p.digits(2, 2)
	if !ok || h > 15 {
		return false
	}
	secs := h * 3600
	for _, unit := range []int{60, 1} {
		if !p.byte(':') {
			break
		}
		n, ok := p.digits(2, 2)
		if !ok || n > 59 {
			return false
		}
		secs += n * unit
	}
	d.HasZone, d.Zone = true, sign*secs
	return true
}
