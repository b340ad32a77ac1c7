// Package metrics is the reference MTA's Prometheus instrumentation: a
// set of counters and gauges that the SMTP session, the policy checks,
// the queue runner and the delivery code move, and an opt-in HTTP
// listener that exposes them. Exim has no equivalent (its nearest are
// exiwhat, eximstats over the main log and the queue listing of
// "exim -bp"); this package gives the same figures live, for scraping.
//
// A nil *Metrics is a valid value that records nothing, so callers pass
// it around and call it unconditionally; metrics are off by handing out
// nil. Each Metrics has its own registry, never the process-wide default.
//
// # Label values
//
// Some label values come from the network (an AUTH mechanism is what the
// client typed) and others from code paths a remote party steers. Every
// value is therefore lower-cased, cut to 32 bytes and reduced to
// [a-z0-9_.-] (other characters become "_"; "" becomes "none"), and then
// either checked against an allow-list or admitted only while the label
// has fewer distinct values than its cap. What fails becomes "other".
// The number of series is thus bounded whatever the input; once a cap is
// reached, "other" growing is the operator's sign to look at the logs.
//
// # Metrics
//
// Counters and gauges moved by the MTA:
//
//	mta_connections_total{listener}             counter connections accepted (listener: cap 16)
//	mta_sessions_active{listener}               gauge   sessions open now
//	mta_connections_refused_total{reason}       counter connections turned away before a session (reason: cap 50)
//	mta_messages_total{outcome,reason}          counter messages; outcome accepted|refused|deferred (allow-list), reason cap 50
//	mta_engine_results_total{engine,result}     counter policy engine results; engine e.g. spf|dkim|dmarc|dcc|bmi|iprev|auth (cap 16), result cap 16
//	mta_deliveries_total{transport,outcome}     counter delivery attempts; transport e.g. maildir|smtp (cap 8), outcome delivered|deferred|failed|bounced (allow-list)
//	mta_auth_attempts_total{mechanism,result}   counter SMTP AUTH attempts; mechanism: the IANA SASL names (allow-list), result cap 16
//	mta_received_bytes_total                    counter message bytes received
//
// Read at scrape time from callbacks the MTA installs (absent until one is
// installed with SetQueueFunc or SetDNSFunc):
//
//	mta_queue_messages            gauge    messages in the queue
//	mta_queue_oldest_age_seconds  gauge    age of the oldest queued message, 0 when empty
//	mta_dns_queries_total         counter  DNS lookups sent to servers (resolver.Stats.Queries)
//	mta_dns_cache_hits_total      counter  queries answered from cache (CacheHits)
//	mta_dns_cache_misses_total    counter  queries the cache had to send (CacheMisses)
//	mta_dns_collapsed_total       counter  queries that joined an identical one in flight (Collapsed)
//	mta_dns_cache_entries         gauge    answers held in the cache (CacheEntries)
//
// Registered by other packages (Register), when their feature is on:
//
//	mta_reports_sent_total{kind,outcome}      counter reports package: kind dmarc|tls, outcome queued|posted|failed
//	mta_reports_received_total{kind,outcome}  counter report_inbox: kind dmarc|tls|none, outcome stored|duplicate|unparsed
//
// Plus the standard go_* and process_* series of the Go and process
// collectors.
//
// # Listener
//
// Serve answers GET /metrics (the exposition) and GET /healthz ("ok")
// until its context ends. The listener is opt-in: the MTA opens one only
// when configured to, and it should be bound to a loopback or monitoring
// address, since the series tell a reader about the mail flow.
package metrics
