package events_test

import (
	"fmt"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/mailpolicy/mailpolicy/events"
)

func TestDNSFailData(t *testing.T) {
	cases := []struct {
		reason      events.DNSFailReason
		name, qtype string
		want        string
	}{
		{events.ReasonNoMatch, "a:b", "A", "DNS_NOMATCH:a::b:A"},
		{events.ReasonNoMatch, "nx.example.com", "MX", "DNS_NOMATCH:nx.example.com:MX"},
		{events.ReasonNoData, "example.com", "TXT", "DNS_NODATA:example.com:TXT"},
		{events.ReasonAgain, "_25._tcp.mx.example", "TLSA", "DNS_AGAIN:_25._tcp.mx.example:TLSA"},
		{events.ReasonFail, "x", "AAAA", "DNS_FAIL:x:AAAA"},
		{events.ReasonNoHitYetNoCNAME, "h", "A", "no_hit_yet_no_cname:h:A"},
		{events.ReasonBadExpand, "h", "A", "bad_expand:h:A"},
		{events.ReasonCNAMELoop, "loop.example", "A", "cname_loop:loop.example:A"},
		{events.ReasonNoMatch, "::1:", "PTR", "DNS_NOMATCH:::::1:::PTR"},
		{events.ReasonNoMatch, "", "A", "DNS_NOMATCH::A"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, events.DNSFailData(c.reason, c.name, c.qtype))
	}
}

func TestDANEReasons(t *testing.T) {
	assert.Equal(t, "dane-required", string(events.DANERequired))
	assert.Equal(t, "dnssec-invalid", string(events.DNSSECInvalid))
	assert.Equal(t, "validation-failure", string(events.ValidationFailure))
	assert.Equal(t, "starttls-not-supported", string(events.STARTTLSNotSupported))
}

func TestDeferData(t *testing.T) {
	refused := int(syscall.ECONNREFUSED)
	assert.Equal(t, "SMTP timeout: Connection refused", events.DeferData("SMTP timeout", refused))
	assert.Equal(t, "SMTP timeout", events.DeferData("SMTP timeout", 0))
	assert.Equal(t, "SMTP timeout", events.DeferData("SMTP timeout", -18)) // an Exim errno
	assert.Equal(t, "Connection refused", events.DeferData("", refused))
	assert.Equal(t, "", events.DeferData("", 0))
	assert.Equal(t, "", events.DeferData("", -53))
	assert.Equal(t, "Connection timed out", events.Strerror(int(syscall.ETIMEDOUT)))
	assert.Equal(t, "No route to host", events.Strerror(int(syscall.EHOSTUNREACH)))
	assert.Equal(t, "Unknown error 99999", events.Strerror(99999))
	assert.Equal(t, "Unknown error -1", events.Strerror(-1))
}

func TestRcptDeferErrno(t *testing.T) {
	// 13121 is what Exim 4.96 reported for a 451 from a manualroute host.
	assert.Equal(t, 13121, events.RcptDeferErrno(451, false))
	assert.Equal(t, 51<<8|int('M'), events.RcptDeferErrno(451, true))
	assert.Equal(t, 52<<8|int('A'), events.RcptDeferErrno(452, false))
	assert.Equal(t, 0, events.RcptDeferErrno(400-1, false))
	assert.Equal(t, 0, events.RcptDeferErrno(550, true))
	assert.Equal(t, 0, events.RcptDeferErrno(250, false))
	for code := 400; code <= 499; code++ {
		for _, mx := range []bool{false, true} {
			e := events.RcptDeferErrno(code, mx)
			assert.Equal(t, code, events.RcptDeferCode(e))
			assert.Equal(t, mx, events.RcptDeferFromMX(e))
		}
	}
}

func TestSmallData(t *testing.T) {
	assert.Equal(t, "0", events.CertDepthData(0))
	assert.Equal(t, "2", events.CertDepthData(2))
	assert.Equal(t, "250-mx.example Hello\n250-SIZE 1000\n250 PIPELINING",
		events.EHLOData([]string{"250-mx.example Hello\r\n", "250-SIZE 1000", "250 PIPELINING\n"}))
	assert.Equal(t, "", events.EHLOData(nil))
	assert.Equal(t, "220-mx first\n220 mx ESMTP", events.BannerData([]string{"220-mx first\r\n", "220 mx ESMTP\r\n"}))
	assert.Equal(t, events.SMTPFailProtocol, events.SyntaxFailEvent(true))
	assert.Equal(t, events.SMTPFailSyntax, events.SyntaxFailEvent(false))
}

func TestFailureEvent(t *testing.T) {
	for notify := events.NotifyFlags(0); notify < 16; notify++ {
		for _, ignore := range []bool{false, true} {
			for _, transport := range []bool{false, true} {
				name := fmt.Sprintf("notify=%04b ignore=%v transport=%v", notify, ignore, transport)
				wantName := events.MsgFailInternal
				if transport {
					wantName = events.MsgFailDelivery
				}
				n, stage := events.FailureEvent(transport, ignore, notify)
				assert.Equal(t, wantName, n, name)
				bounced := !ignore && (notify == 0 || notify&events.NotifyFailure != 0)
				if bounced {
					assert.Equal(t, events.StageFailureLog, stage, name)
				} else {
					assert.Equal(t, events.StageNoBounce, stage, name)
				}

				en, estage := events.EximFailureEvent(transport, ignore, notify)
				assert.Equal(t, wantName, en, name)
				// Exim's bug: FAILURE with any other flag (SUCCESS, DELAY,
				// or the invalid NEVER) and no ignore_error gives no event.
				eximBug := !ignore && notify&events.NotifyFailure != 0 &&
					notify&^events.NotifyFailure != 0
				if eximBug {
					assert.Equal(t, events.StageNone, estage, name)
				} else {
					assert.Equal(t, stage, estage, name)
				}
			}
		}
	}
	// The cases the specification names.
	_, s := events.EximFailureEvent(true, false, events.NotifyFailure|events.NotifySuccess)
	assert.Equal(t, events.StageNone, s)
	_, s = events.FailureEvent(true, false, events.NotifyFailure|events.NotifySuccess)
	assert.Equal(t, events.StageFailureLog, s)
	_, s = events.EximFailureEvent(true, false, events.NotifyNever)
	assert.Equal(t, events.StageNoBounce, s)
	_, s = events.EximFailureEvent(true, true, 0)
	assert.Equal(t, events.StageNoBounce, s)
	_, s = events.EximFailureEvent(false, false, 0)
	assert.Equal(t, events.StageFailureLog, s)
	assert.Equal(t, "none", events.StageNone.String())
}
