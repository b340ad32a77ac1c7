package tlsrpt_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"time"

	"github.com/mailpolicy/mailpolicy/tlsrpt"
)

// The delivery code records each session under the policy it applied;
// after the day, the scheduler builds one report per policy domain.
func Example() {
	now := time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
	rec := tlsrpt.NewRecorder(
		tlsrpt.WithClock(func() time.Time { return now }),
		tlsrpt.WithInstanceID("mx1"), // reproducible report IDs
	)
	sts := tlsrpt.Policy{
		Type:    tlsrpt.PolicySTS,
		Domain:  "example.com",
		Strings: []string{"version: STSv1", "mode: enforce", "mx: mail.example.com", "max_age: 604800"},
		MXHosts: []string{"mail.example.com"},
	}
	rec.Success(sts)
	rec.Success(sts)
	rec.Failure(sts, tlsrpt.Failure{
		Result:              tlsrpt.ResultCertificateExpired,
		SendingMTAIP:        netip.MustParseAddr("192.0.2.25"),
		ReceivingMXHostname: "mail.example.com",
		ReceivingIP:         netip.MustParseAddr("198.51.100.10"),
	})

	day := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	org := tlsrpt.Organization{Name: "Example Sender", Contact: "postmaster@sender.example"}
	for _, rep := range rec.Reports(day, day.AddDate(0, 0, 1), org) {
		fmt.Println(rep.Filename())
		var b bytes.Buffer
		rep.WriteJSON(&b)
		var out bytes.Buffer
		json.Indent(&out, b.Bytes(), "", "  ")
		out.WriteTo(os.Stdout)
	}
	rec.Forget(day.AddDate(0, 0, 1))
	// Output:
	// sender.example!example.com!1773446400!1773532799!20260314f27ba90ec75095be.json.gz
	// {
	//   "organization-name": "Example Sender",
	//   "date-range": {
	//     "start-datetime": "2026-03-14T00:00:00Z",
	//     "end-datetime": "2026-03-14T23:59:59Z"
	//   },
	//   "contact-info": "postmaster@sender.example",
	//   "report-id": "20260314.f27ba90ec75095be@sender.example",
	//   "policies": [
	//     {
	//       "policy": {
	//         "policy-type": "sts",
	//         "policy-domain": "example.com",
	//         "policy-string": [
	//           "version: STSv1",
	//           "mode: enforce",
	//           "mx: mail.example.com",
	//           "max_age: 604800"
	//         ],
	//         "mx-host": [
	//           "mail.example.com"
	//         ]
	//       },
	//       "summary": {
	//         "total-successful-session-count": 2,
	//         "total-failure-session-count": 1
	//       },
	//       "failure-details": [
	//         {
	//           "result-type": "certificate-expired",
	//           "sending-mta-ip": "192.0.2.25",
	//           "receiving-mx-hostname": "mail.example.com",
	//           "receiving-ip": "198.51.100.10",
	//           "failed-session-count": 1
	//         }
	//       ]
	//     }
	//   ]
	// }
}
