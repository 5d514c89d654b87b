package typemap

import (
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/mxmigrate/mxmigrate/internal/pgtext"
)

// number is a decimal value: coef × 10^exp, or NaN or ±infinity.
type number struct {
	coef *big.Int
	exp  int
	nan  bool
	inf  int // +1, -1 or 0
}

// decimalOf reads a pgx numeric.
func decimalOf(v any) (number, error) {
	n, ok := v.(pgtype.Numeric)
	if !ok {
		return number{}, unexpected(v, "numeric")
	}
	switch {
	case n.NaN:
		return number{nan: true}, nil
	case n.InfinityModifier == pgtype.Infinity:
		return number{inf: 1}, nil
	case n.InfinityModifier == pgtype.NegativeInfinity:
		return number{inf: -1}, nil
	case n.Int == nil:
		return number{coef: new(big.Int)}, nil
	}
	return number{coef: n.Int, exp: int(n.Exp)}, nil
}

func (d number) float64() (float64, error) {
	switch {
	case d.nan:
		return math.NaN(), nil
	case d.inf != 0:
		return math.Inf(d.inf), nil
	}
	// ParseFloat rounds correctly; out of range it returns ±Inf, which the
	// caller reports.
	f, err := strconv.ParseFloat(d.coef.String()+"e"+strconv.Itoa(d.exp), 64)
	if err != nil && !math.IsInf(f, 0) && f != 0 {
		return 0, err
	}
	return f, nil
}

var (
	bigTen    = big.NewInt(10)
	pow10Ints = func() (p [19]int64) {
		p[0] = 1
		for i := 1; i < len(p); i++ {
			p[i] = p[i-1] * 10
		}
		return p
	}()
)

func bigPow10(n int) *big.Int {
	return new(big.Int).Exp(bigTen, big.NewInt(int64(n)), nil)
}

// rescale returns d × 10^scale as an integer. When d has more decimal
// places than scale, clamp rounds half away from zero and otherwise it is
// a misfit.
func rescale(coef *big.Int, exp, scale int, clamp bool) (*big.Int, error) {
	shift := exp + scale
	if shift >= 0 {
		return new(big.Int).Mul(coef, bigPow10(shift)), nil
	}
	divisor := bigPow10(-shift)
	q, r := new(big.Int).QuoRem(coef, divisor, new(big.Int))
	if r.Sign() == 0 {
		return q, nil
	}
	if !clamp {
		return nil, misfit("more than %d decimal places", scale)
	}
	// Round half away from zero: |2r| >= divisor moves q one step out.
	if new(big.Int).Abs(r.Lsh(r, 1)).Cmp(divisor) >= 0 {
		q.Add(q, big.NewInt(int64(coef.Sign())))
	}
	return q, nil
}

// decimalFit fits values to a decimal(precision, scale) target, as the
// text go-mssqldb parses for such a column, with exactly scale decimal
// places (it refuses more).
type decimalFit struct {
	precision, scale int
	limit            *big.Int // exclusive bound of the unscaled value
	largest          *big.Int
}

func newDecimalFit(precision, scale int) *decimalFit {
	limit := bigPow10(precision)
	return &decimalFit{precision: precision, scale: scale, limit: limit, largest: new(big.Int).Sub(limit, big.NewInt(1))}
}

func (f *decimalFit) unscaled(u *big.Int, clamp bool) (any, error) {
	if new(big.Int).Abs(u).Cmp(f.limit) >= 0 {
		if !clamp {
			return nil, misfit("more than %d digits (%d before the decimal point)", f.precision, f.precision-f.scale)
		}
		clamped := new(big.Int).Set(f.largest)
		if u.Sign() < 0 {
			clamped.Neg(clamped)
		}
		u = clamped
	}
	return formatScaled(u.Sign() < 0, new(big.Int).Abs(u).String(), f.scale), nil
}

// fast formats n × 10^exp when the scaled value stays an int64 and fits
// without rounding.
func (f *decimalFit) fast(n int64, exp int) (string, bool) {
	shift := exp + f.scale
	switch {
	case shift >= 0 && shift < len(pow10Ints):
		m := pow10Ints[shift]
		if n > math.MaxInt64/m || n < -math.MaxInt64/m {
			return "", false
		}
		n *= m
	case shift < 0 && -shift < len(pow10Ints):
		m := pow10Ints[-shift]
		if n%m != 0 {
			return "", false
		}
		n /= m
	default:
		return "", false
	}
	if f.precision < len(pow10Ints) && (n >= pow10Ints[f.precision] || n <= -pow10Ints[f.precision]) {
		return "", false
	}
	if n < 0 {
		return formatScaledUint(true, uint64(-(n+1))+1, f.scale), true
	}
	return formatScaledUint(false, uint64(n), f.scale), true
}

// formatScaledUint is formatScaled for a uint64, in one allocation: it
// runs for every decimal value of a load.
func formatScaledUint(neg bool, u uint64, scale int) string {
	var digitsBuf [20]byte
	digits := strconv.AppendUint(digitsBuf[:0], u, 10)
	var buf [64]byte // sign, 38 digits of scale, a point, a leading zero
	b := buf[:0]
	if neg {
		b = append(b, '-')
	}
	if scale == 0 {
		return string(append(b, digits...))
	}
	if intLen := len(digits) - scale; intLen > 0 {
		b = append(b, digits[:intLen]...)
		b = append(b, '.')
		b = append(b, digits[intLen:]...)
	} else {
		b = append(b, '0', '.')
		for ; intLen < 0; intLen++ {
			b = append(b, '0')
		}
		b = append(b, digits...)
	}
	return string(b)
}

// int64 fits n × 10^exp.
func (f *decimalFit) int64(n int64, exp int, clamp bool) (any, error) {
	if s, ok := f.fast(n, exp); ok {
		return s, nil
	}
	return f.number(number{coef: big.NewInt(n), exp: exp}, clamp)
}

func (f *decimalFit) float(v float64, clamp bool) (any, error) {
	switch {
	case math.IsNaN(v):
		return f.number(number{nan: true}, clamp)
	case math.IsInf(v, 0):
		return f.number(number{inf: int(math.Copysign(1, v))}, clamp)
	}
	return f.number(parseFloatText(strconv.FormatFloat(v, 'e', -1, 64)), clamp)
}

func (f *decimalFit) number(d number, clamp bool) (any, error) {
	switch {
	case d.nan:
		return nil, misfit("NaN: SQL Server's decimal has none")
	case d.inf != 0:
		if !clamp {
			return nil, misfit("infinity: SQL Server's decimal has none")
		}
		u := new(big.Int).Set(f.largest)
		if d.inf < 0 {
			u.Neg(u)
		}
		return f.unscaled(u, clamp)
	}
	u, err := rescale(d.coef, d.exp, f.scale, clamp)
	if err != nil {
		return nil, err
	}
	return f.unscaled(u, clamp)
}

// decimalConverter converts pgx values for a decimal(precision, scale)
// column.
func decimalConverter(precision, scale int) convertFunc {
	f := newDecimalFit(precision, scale)
	return func(v any, clamp bool) (any, error) {
		switch v := v.(type) {
		case int16, int32, int64, int:
			return f.int64(asInt64(v), 0, clamp)
		case float32, float64:
			return f.float(asFloat64(v), clamp)
		}
		n, ok := v.(pgtype.Numeric)
		if ok && n.Int != nil && n.Int.IsInt64() && !n.NaN && n.InfinityModifier == pgtype.Finite {
			if s, ok := f.fast(n.Int.Int64(), int(n.Exp)); ok {
				return s, nil
			}
		}
		d, err := decimalOf(v)
		if err != nil {
			return nil, err
		}
		return f.number(d, clamp)
	}
}

// parseFloatText reads strconv's 'e' format, e.g. "-1.2345e-05".
func parseFloatText(s string) number {
	mant, expText, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expText)
	intPart, frac, _ := strings.Cut(mant, ".")
	coef, _ := new(big.Int).SetString(intPart+frac, 10)
	return number{coef: coef, exp: exp - len(frac)}
}

// formatScaled writes digits (an unsigned integer) with the decimal point
// scale places from the right.
func formatScaled(neg bool, digits string, scale int) string {
	var b strings.Builder
	b.Grow(len(digits) + scale + 3)
	if neg {
		b.WriteByte('-')
	}
	if scale == 0 {
		b.WriteString(digits)
		return b.String()
	}
	if pad := scale + 1 - len(digits); pad > 0 {
		digits = strings.Repeat("0", pad) + digits
	}
	b.WriteString(digits[:len(digits)-scale])
	b.WriteByte('.')
	b.WriteString(digits[len(digits)-scale:])
	return b.String()
}

// decimalToInt converts a numeric to an integer target.
func decimalToInt(d number, clamp bool, fit func(int64, bool) (any, error)) (any, error) {
	switch {
	case d.nan:
		return nil, misfit("NaN has no integer equivalent")
	case d.inf != 0:
		return saturate(d.inf, clamp, fit)
	}
	u, err := rescale(d.coef, d.exp, 0, clamp)
	if err != nil {
		return nil, misfit("not a whole number")
	}
	if !u.IsInt64() {
		return saturate(u.Sign(), clamp, fit)
	}
	return fit(u.Int64(), clamp)
}

// saturate handles a value beyond int64 (or infinite) in the direction of
// sign: the target's bound when clamping, a misfit otherwise.
func saturate(sign int, clamp bool, fit func(int64, bool) (any, error)) (any, error) {
	if !clamp {
		return nil, misfit("out of the integer range")
	}
	if sign > 0 {
		return fit(math.MaxInt64, true)
	}
	return fit(math.MinInt64, true)
}

func asFloat64(v any) float64 {
	switch f := v.(type) {
	case float32:
		return float64(f)
	case float64:
		return f
	}
	return math.NaN()
}

// numberOf is numeric_out's text, read, as a number.
func numberOf(n pgtext.Numeric) number {
	switch {
	case n.NaN:
		return number{nan: true}
	case n.Inf != 0:
		return number{inf: n.Inf}
	case n.Big != nil:
		return number{coef: n.Big, exp: n.Exp}
	}
	return number{coef: big.NewInt(n.Small), exp: n.Exp}
}
