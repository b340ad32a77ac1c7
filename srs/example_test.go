package srs_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/mailpolicy/mailpolicy/srs"
)

func Example() {
	clock := func() time.Time { return time.Unix(1577836860, 0) } // 2020-01-01
	r, err := srs.New(srs.Config{
		Domain:  "example.com",
		Secrets: []string{"tops3cr3t"},
		Now:     clock,
	})
	if err != nil {
		panic(err)
	}
	fwd, _ := r.Forward("test@otherdomain.com")
	fmt.Println(fwd)
	orig, _ := r.Reverse(fwd)
	fmt.Println(orig)
	again, _ := r.Forward("SRS0=opaque+string@otherdomain.com")
	fmt.Println(again)
	_, err = r.Reverse("SRS0=FAKE=2W=otherdomain.com=test@example.com")
	fmt.Println(errors.Is(err, srs.ErrHash))
	// Output:
	// SRS0=vmyz=2W=otherdomain.com=test@example.com
	// test@otherdomain.com
	// SRS1=chaI=otherdomain.com==opaque+string@example.com
	// true
}

func Example_exim() {
	r, err := srs.New(srs.Config{
		Scheme:  srs.Exim,
		Domain:  "forwarder.example",
		Secrets: []string{"s3cret"},
		Now:     func() time.Time { return time.Unix(1577836860, 0) },
	})
	if err != nil {
		panic(err)
	}
	fwd, _ := r.Forward("Alice@Example.ORG")
	fmt.Println(fwd)
	rcpt, err := r.Reverse(fwd)
	fmt.Println(rcpt, err)
	// Output:
	// SRS0=d451=2w=Example.ORG=Alice@forwarder.example
	// alice@example.org <nil>
}
