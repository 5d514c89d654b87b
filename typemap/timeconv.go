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

// dateTimeConverter converts timestamps and dates for datetime2(scale) or,
// with offset, datetimeoffset(scale). Values are passed in UTC:
// go-mssqldb encodes datetime2 from the wall clock of the value's own
// location, and a timestamptz is an instant whose wall clock in UTC is
// what SQL Server will show at offset +00:00.
func dateTimeConverter(scale int, offset bool) convertFunc {
	name := "datetime2"
	if offset {
		name = "datetimeoffset"
	}
	unit := fractionUnit(scale)
	largest := endOfRange.Add(-unit)
	return func(v any, clamp bool) (any, error) {
		var t time.Time
		switch v := v.(type) {
		case time.Time:
			t = v.UTC()
		case pgtype.InfinityModifier:
			if !clamp {
				return nil, misfit("%s: SQL Server's %s has no infinity", v, name)
			}
			if v == pgtype.NegativeInfinity {
				return minDateTime, nil
			}
			return largest, nil
		default:
			return nil, unexpected(v, name)
		}
		switch {
		case t.Before(minDateTime):
			if !clamp {
				return nil, misfit("before 0001-01-01, the start of %s", name)
			}
			return minDateTime, nil
		case !t.Before(endOfRange):
			if !clamp {
				return nil, misfit("after 9999-12-31, the end of %s", name)
			}
			return largest, nil
		}
		if t.Nanosecond()%int(unit) != 0 {
			if !clamp {
				return nil, misfit("more fractional second digits than %s(%d) keeps", name, scale)
			}
			t = t.Truncate(unit)
		}
		return t, nil
	}
}

func toDate(v any, clamp bool) (any, error) {
	var t time.Time
	switch v := v.(type) {
	case time.Time:
		t = v.UTC()
	case pgtype.InfinityModifier:
		if !clamp {
			return nil, misfit("%s: SQL Server's date has no infinity", v)
		}
		if v == pgtype.NegativeInfinity {
			return minDateTime, nil
		}
		return time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), nil
	default:
		return nil, unexpected(v, "date")
	}
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
		return time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), nil
	}
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	if !day.Equal(t) && !clamp {
		return nil, misfit("has a time of day, which date drops")
	}
	return day, nil
}

// timeConverter converts a PostgreSQL time (microseconds since midnight,
// up to and including 24:00:00) for time(scale). go-mssqldb encodes the
// value's hour, minute, second and nanosecond.
func timeConverter(scale int) convertFunc {
	unit := fractionUnit(scale)
	const day = 24 * time.Hour
	return func(v any, clamp bool) (any, error) {
		tv, ok := v.(pgtype.Time)
		if !ok {
			return nil, unexpected(v, "time")
		}
		d := time.Duration(tv.Microseconds) * time.Microsecond
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
