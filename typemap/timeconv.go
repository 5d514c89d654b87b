package typemap

import (
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// SQL Server's date range, for datetime2, datetimeoffset and date.
var (
	minDateTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	endOfRange  = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// fractionUnit is the smallest step of a time with scale fractional
// second digits.
func fractionUnit(scale int) time.Duration {
	unit := time.Second
	for i := 0; i < scale; i++ {
		unit /= 10
	}
	return unit
}

// dateTimeFit fits timestamps and dates to datetime2(scale) or, with
// offset, datetimeoffset(scale). Values are passed in UTC: go-mssqldb
// encodes datetime2 from the wall clock of the value's own location, and a
// timestamptz is an instant whose wall clock in UTC is what SQL Server will
// show at offset +00:00.
type dateTimeFit struct {
	name    string
	scale   int
	unit    time.Duration
	largest time.Time
}

func newDateTimeFit(scale int, offset bool) *dateTimeFit {
	name := "datetime2"
	if offset {
		name = "datetimeoffset"
	}
	unit := fractionUnit(scale)
	return &dateTimeFit{name: name, scale: scale, unit: unit, largest: endOfRange.Add(-unit)}
}

// infinity fits PostgreSQL's infinity (sign > 0) or -infinity.
func (f *dateTimeFit) infinity(sign int, clamp bool) (any, error) {
	if !clamp {
		return nil, misfit("%s: SQL Server's %s has no infinity", infinityText(sign), f.name)
	}
	if sign < 0 {
		return minDateTime, nil
	}
	return f.largest, nil
}

func (f *dateTimeFit) time(t time.Time, clamp bool) (any, error) {
	t = t.UTC()
	switch {
	case t.Before(minDateTime):
		if !clamp {
			return nil, misfit("before 0001-01-01, the start of %s", f.name)
		}
		return minDateTime, nil
	case !t.Before(endOfRange):
		if !clamp {
			return nil, misfit("after 9999-12-31, the end of %s", f.name)
		}
		return f.largest, nil
	}
	if t.Nanosecond()%int(f.unit) != 0 {
		if !clamp {
			return nil, misfit("more fractional second digits than %s(%d) keeps", f.name, f.scale)
		}
		t = t.Truncate(f.unit)
	}
	return t, nil
}

func infinityText(sign int) string {
	if sign < 0 {
		return pgtype.NegativeInfinity.String()
	}
	return pgtype.Infinity.String()
}

// infinitySign is +1 for pgx's Infinity, -1 for NegativeInfinity.
func infinitySign(v pgtype.InfinityModifier) int {
	if v == pgtype.NegativeInfinity {
		return -1
	}
	return 1
}

// dateTimeConverter converts to a datetime2 or datetimeoffset target t.
func dateTimeConverter(t Target) convertFunc {
	f := newDateTimeFit(t.Scale, t.kind() == kindDatetimeOffset)
	return func(v any, clamp bool) (any, error) {
		switch v := v.(type) {
		case time.Time:
			return f.time(v, clamp)
		case pgtype.InfinityModifier:
			return f.infinity(infinitySign(v), clamp)
		}
		return nil, unexpected(v, f.name)
	}
}

var lastDate = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

func dateInfinity(sign int, clamp bool) (any, error) {
	if !clamp {
		return nil, misfit("%s: SQL Server's date has no infinity", infinityText(sign))
	}
	if sign < 0 {
		return minDateTime, nil
	}
	return lastDate, nil
}

func fitDate(t time.Time, clamp bool) (any, error) {
	t = t.UTC()
	switch {
	case t.Before(minDateTime):
		if !clamp {
			return nil, misfit("before 0001-01-01, the start of date")
		}
		return minDateTime, nil
	case !t.Before(endOfRange):
		if !clamp {
			return nil, misfit("after 9999-12-31, the end of date")
		}
		return lastDate, nil
	}
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	if !day.Equal(t) && !clamp {
		return nil, misfit("has a time of day, which date drops")
	}
	return day, nil
}

func toDate(v any, clamp bool) (any, error) {
	switch v := v.(type) {
	case time.Time:
		return fitDate(v, clamp)
	case pgtype.InfinityModifier:
		return dateInfinity(infinitySign(v), clamp)
	}
	return nil, unexpected(v, "date")
}

// timeFit fits a PostgreSQL time (microseconds since midnight, up to and
// including 24:00:00) to time(scale). go-mssqldb encodes the value's hour,
// minute, second and nanosecond.
func timeFit(scale int) func(us int64, clamp bool) (any, error) {
	unit := fractionUnit(scale)
	const day = 24 * time.Hour
	return func(us int64, clamp bool) (any, error) {
		d := time.Duration(us) * time.Microsecond
		if d >= day {
			if !clamp {
				return nil, misfit("24:00:00 is past SQL Server's time range")
			}
			d = day - unit
		}
		if d%unit != 0 {
			if !clamp {
				return nil, misfit("more fractional second digits than time(%d) keeps", scale)
			}
			d = d.Truncate(unit)
		}
		return minDateTime.Add(d), nil
	}
}

func timeConverter(scale int) convertFunc {
	fit := timeFit(scale)
	return func(v any, clamp bool) (any, error) {
		tv, ok := v.(pgtype.Time)
		if !ok {
			return nil, unexpected(v, "time")
		}
		return fit(tv.Microseconds, clamp)
	}
}
