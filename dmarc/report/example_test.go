package report_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/mailpolicy/mailpolicy/dmarc"
	"github.com/mailpolicy/mailpolicy/dmarc/report"
)

// Two messages of one day from the same source, as read back from
// Exim's dmarc_history_file, become one RFC 9990 report with one row.
func ExampleAggregate() {
	begin := time.Unix(1700006400, 0) // 2023-11-15 00:00:00 UTC
	end := begin.Add(24 * time.Hour)
	e := dmarc.HistoryEntry{
		Job: "1tXyZa-000123-AB", Reporter: "mx.receiver.example", Received: begin.Add(time.Hour),
		IPAddr: netip.MustParseAddr("192.0.2.1"), From: "example.com", MailFrom: "example.com",
		SPF: dmarc.ARESPass, DKIM: []dmarc.HistoryDKIM{{Domain: "example.com", Selector: "s1", Result: dmarc.ARESPass}},
		PolicyDomain: "example.com", Policy: dmarc.HistoryPolicyPass, Pct: 100,
		ADKIM: 'r', ASPF: 'r', P: 'r', AlignDKIM: dmarc.HistoryAlignPass, AlignSPF: dmarc.HistoryAlignPass,
		Action: dmarc.HistoryActionAccept,
	}
	later := e
	later.Job, later.Received = "1tXyZb-000456-CD", begin.Add(2*time.Hour)

	reports := report.Aggregate([]dmarc.HistoryEntry{e, later}, begin, end, report.Reporter{
		OrgName: "Receiver", Email: "dmarc@receiver.example",
	})
	for _, f := range reports {
		fmt.Println(f.Filename())
		xml, _ := f.Marshal()
		fmt.Print(string(xml))
	}
	// Output:
	// receiver.example!example.com!1700006400!1700092799.xml.gz
	// <?xml version="1.0" encoding="UTF-8"?>
	// <feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0">
	//   <version>1.0</version>
	//   <report_metadata>
	//     <org_name>Receiver</org_name>
	//     <email>dmarc@receiver.example</email>
	//     <report_id>example.com.1700006400.1700092799</report_id>
	//     <date_range>
	//       <begin>1700006400</begin>
	//       <end>1700092799</end>
	//     </date_range>
	//     <generator>mailpolicy dmarc/report</generator>
	//   </report_metadata>
	//   <policy_published>
	//     <domain>example.com</domain>
	//     <p>reject</p>
	//     <sp>reject</sp>
	//     <adkim>r</adkim>
	//     <aspf>r</aspf>
	//   </policy_published>
	//   <record>
	//     <row>
	//       <source_ip>192.0.2.1</source_ip>
	//       <count>2</count>
	//       <policy_evaluated>
	//         <disposition>none</disposition>
	//         <dkim>pass</dkim>
	//         <spf>pass</spf>
	//       </policy_evaluated>
	//     </row>
	//     <identifiers>
	//       <envelope_from>example.com</envelope_from>
	//       <header_from>example.com</header_from>
	//     </identifiers>
	//     <auth_results>
	//       <dkim>
	//         <domain>example.com</domain>
	//         <selector>s1</selector>
	//         <result>pass</result>
	//       </dkim>
	//       <spf>
	//         <domain>example.com</domain>
	//         <scope>mfrom</scope>
	//         <result>pass</result>
	//       </spf>
	//     </auth_results>
	//   </record>
	// </feedback>
}
