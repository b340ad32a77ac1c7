package events_test

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/mailpolicy/mailpolicy/events"
)

func Example() {
	// The transport's event_action: refuse connections to a documentation
	// network, report DNS failures.
	var transport events.Bus
	transport.Subscribe(events.Only(events.TCPConnect), func(_ context.Context, ev *events.Event) (string, error) {
		if netip.MustParsePrefix("192.0.2.0/24").Contains(ev.HostAddress) {
			return "no connections to TEST-NET-1", nil
		}
		return "", nil
	})
	transport.Subscribe(events.Prefix("dns:"), func(_ context.Context, ev *events.Event) (string, error) {
		fmt.Println("dns failure:", ev.Data)
		return "", nil
	})

	ctx := context.Background()
	for _, addr := range []string{"198.51.100.7", "192.0.2.25"} {
		d := transport.Raise(ctx, &events.Event{
			Name:        events.TCPConnect,
			Transport:   "remote_smtp",
			HostAddress: netip.MustParseAddr(addr),
			HostPort:    25,
		})
		if d.Refused() {
			fmt.Printf("%s: not connecting: %s\n", addr, d.Result)
			continue
		}
		fmt.Printf("%s: connecting\n", addr)
	}

	// dns:fail's data is ignored by Exim whatever the result.
	d := transport.Raise(ctx, &events.Event{
		Name: events.DNSFail,
		Data: events.DNSFailData(events.ReasonNoMatch, "a:b.example", "MX"),
	})
	fmt.Println("acted:", d.Acted)

	// Output:
	// 198.51.100.7: connecting
	// 192.0.2.25: not connecting: no connections to TEST-NET-1
	// dns failure: DNS_NOMATCH:a::b.example:MX
	// acted: false
}

func ExampleDecision_DeferMessage() {
	var b events.Bus
	b.Subscribe(events.Only(events.SMTPConnect), func(_ context.Context, ev *events.Event) (string, error) {
		if !ev.DNSSEC {
			return "host not DNSSEC-authenticated", nil
		}
		return "", nil
	})
	d := b.Raise(context.Background(), &events.Event{Name: events.SMTPConnect, Data: "220 mx.example.com ESMTP"})
	fmt.Println(d.DeferMessage())
	// Output:
	// deferred by smtp:connect event expansion: host not DNSSEC-authenticated
}

func ExampleFailureEvent() {
	// NOTIFY=FAILURE,SUCCESS: Exim raises no failure event at all.
	notify := events.NotifyFailure | events.NotifySuccess
	n, stage := events.EximFailureEvent(true, false, notify)
	fmt.Println("exim:", n, stage)
	n, stage = events.FailureEvent(true, false, notify)
	fmt.Println("here:", n, stage)
	// Output:
	// exim: msg:fail:delivery none
	// here: msg:fail:delivery failure-log
}

func ExampleEvent_Variables() {
	ev := &events.Event{Name: events.SMTPEHLO, Data: events.EHLOData([]string{"250-mx Hello", "250 PIPELINING"})}
	for _, v := range ev.Variables()[:3] {
		fmt.Printf("$%s = %q\n", v.Name, v.Value)
	}
	// Output:
	// $event_name = "smtp:ehlo"
	// $event_data = "250-mx Hello 250 PIPELINING"
	// $event_defer_errno = "0"
}
