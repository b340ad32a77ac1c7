package config_test

import (
	"flag"
	"fmt"
	"io"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/config"
)

func ExampleParse() {
	fs := flag.NewFlagSet("mta", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	s, err := config.Parse(fs, []string{"-domains", "Example.ORG", "-max-size", "104857600"})
	if err == nil {
		err = s.Validate()
	}
	fmt.Println(err)
	fmt.Println(s.Listen, s.Domains, s.SRSDomain, s.MaxDataMemory)
	// Output:
	// <nil>
	// 127.0.0.1:2525 [example.org] example.org 268435456
}

func ExampleSettings_Validate() {
	fs := flag.NewFlagSet("mta", flag.ContinueOnError)
	s, _ := config.Parse(fs, []string{"-max-size", "-1", "-forward", "a@example.test=b@example.org"})
	fmt.Println(s.Validate())
	// Output:
	// -max-size: must be positive
	// -forward: needs spool and srs_secret
}
