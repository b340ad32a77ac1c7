package metrics_test

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/mailpolicy/mailpolicy/examples/mta/internal/metrics"
)

func Example() {
	m := metrics.New()
	m.ConnectionOpened("smtp")
	m.EngineResult("spf", "pass")
	m.Message("accepted", "")
	m.SetQueueFunc(func() (int, time.Duration) { return 3, 90 * time.Second })
	m.ConnectionClosed("smtp")

	var off *metrics.Metrics // metrics disabled: every call is a no-op
	off.Message("refused", "rbl")

	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "mta_") {
			fmt.Println(line)
		}
	}
	// Output:
	// mta_connections_total{listener="smtp"} 1
	// mta_engine_results_total{engine="spf",result="pass"} 1
	// mta_messages_total{outcome="accepted",reason="none"} 1
	// mta_queue_messages 3
	// mta_queue_oldest_age_seconds 90
	// mta_received_bytes_total 0
	// mta_sessions_active{listener="smtp"} 0
}
