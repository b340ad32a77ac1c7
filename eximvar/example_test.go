package eximvar_test

import (
	"fmt"

	"github.com/mailpolicy/mailpolicy/eximvar"
)

func Example() {
	// What spf.Outcome.Variables returns, in part.
	vars := []eximvar.Variable{
		{Name: "spf_result", Value: "fail"},
		{Name: "spf_used_domain", Value: "example.com"},
		{Name: "spf_result_guessed", Value: "no"},
	}
	for _, v := range vars {
		fmt.Printf("$%s=%s\n", v.Name, v.Value)
	}
	if res, ok := eximvar.Lookup(vars, "spf_result"); ok {
		fmt.Println("result:", res)
	}
	_, ok := eximvar.Lookup(vars, "dmarc_status")
	fmt.Println("dmarc_status set:", ok)
	// Output:
	// $spf_result=fail
	// $spf_used_domain=example.com
	// $spf_result_guessed=no
	// result: fail
	// dmarc_status set: false
}
