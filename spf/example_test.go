package spf_test

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/mailpolicy/mailpolicy/spf"
)

// With WithLocalhostPass(true) a loopback client passes without DNS, as
// in Exim with libspf2; a real check looks the same with a routable
// address and WithResolver (or resolver.Default, the nameservers of
// /etc/resolv.conf).
func ExampleCheck() {
	o := spf.Check(context.Background(), netip.MustParseAddr("127.0.0.1"),
		"user@example.com", "mail.example.com", spf.WithReceiver("mx.example.org"),
		spf.WithLocalhostPass(true))
	fmt.Println(o.Result)
	fmt.Println(o.HeaderComment)
	fmt.Println(o.Received)
	// Output:
	// pass
	// mx.example.org: localhost is always allowed.
	// Received-SPF: pass (mx.example.org: localhost is always allowed.) client-ip=127.0.0.1; envelope-from=user@example.com; helo=mail.example.com; receiver=mx.example.org; identity=mailfrom;
}

// Exim's "spf = fail : softfail : !neutral" style condition lists.
func ExampleMatch() {
	for _, list := range []string{"fail : softfail", "!pass", "err_perm"} {
		ok, err := spf.Match(spf.SoftFail, list)
		fmt.Println(list, "=>", ok, err)
	}
	_, err := spf.Match(spf.Fail, "fial")
	fmt.Println(err != nil)
	// Output:
	// fail : softfail => true <nil>
	// !pass => true <nil>
	// err_perm => false <nil>
	// true
}

// Exim 4.100 list semantics: a matching negated item is false at once,
// and a list ending in a negated item is true when nothing matched.
func ExampleMatchList() {
	for _, r := range []spf.Result{spf.Pass, spf.None, spf.Fail} {
		ok, _ := spf.MatchList(r, "!pass : !none")
		fmt.Println(r, ok)
	}
	// Output:
	// pass false
	// none false
	// fail true
}

func ExampleParseResult() {
	for _, w := range []string{"softfail", "err_temp", "err_perm", "(invalid)"} {
		r, _ := spf.ParseResult(w)
		fmt.Println(w, "=>", r, r.ConditionName())
	}
	// Output:
	// softfail => softfail softfail
	// err_temp => temperror temperror
	// err_perm => permerror permerror
	// (invalid) => (invalid) invalid
}
