package report

import (
	"encoding/xml"
	"math"
	"strconv"
	"strings"
)

// lenientInt reads a number as real reporters write it: with white
// space, a "+" sign, a fraction ("12.0") or an exponent ("1.7e9").
// Anything else leaves ok false, and the reader decides what that
// means, so that one odd value does not fail the whole report.
type lenientInt struct {
	v  int64
	ok bool
}

func (n *lenientInt) UnmarshalText(b []byte) error {
	s := strings.TrimPrefix(strings.TrimSpace(string(b)), "+")
	*n = lenientInt{}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = lenientInt{v, true}
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	// Integers beyond ±2^63 cannot be converted; such a value is as
	// useless as a word.
	if err == nil && !math.IsNaN(f) && f > -9.2e18 && f < 9.2e18 {
		*n = lenientInt{int64(f), true}
	}
	return nil
}

// UnmarshalXML reads the row; a count that is not a number is 0.
func (r *Row) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	var aux struct {
		SourceIP        string          `xml:"source_ip"`
		Count           lenientInt      `xml:"count"`
		PolicyEvaluated PolicyEvaluated `xml:"policy_evaluated"`
	}
	if err := d.DecodeElement(&aux, &start); err != nil {
		return err
	}
	*r = Row{SourceIP: aux.SourceIP, Count: aux.Count.v, PolicyEvaluated: aux.PolicyEvaluated}
	return nil
}

// UnmarshalXML reads the period; a time that is not a number is 0.
func (dr *DateRange) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	var aux struct {
		Begin lenientInt `xml:"begin"`
		End   lenientInt `xml:"end"`
	}
	if err := d.DecodeElement(&aux, &start); err != nil {
		return err
	}
	*dr = DateRange{Begin: aux.Begin.v, End: aux.End.v}
	return nil
}

// UnmarshalXML reads the published policy; a pct that is empty or not a
// number counts as absent.
func (p *PolicyPublished) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	type plain PolicyPublished
	var aux struct {
		plain
		Pct *lenientInt `xml:"pct"`
	}
	if err := d.DecodeElement(&aux, &start); err != nil {
		return err
	}
	*p = PolicyPublished(aux.plain)
	p.Pct = nil
	if aux.Pct != nil && aux.Pct.ok && aux.Pct.v >= math.MinInt && aux.Pct.v <= math.MaxInt {
		v := int(aux.Pct.v)
		p.Pct = &v
	}
	return nil
}
