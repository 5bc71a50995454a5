package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/globaltables/globaltables/region/api"
)

// Path is where a region serves its metrics.
const Path = "/metrics"

// Buckets of the histograms, in seconds. Requests to a local store take
// tens of microseconds to a few milliseconds; replication spans a local
// apply (milliseconds) to a shaped or broken link (seconds to minutes).
var (
	requestBuckets     = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	replicationBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}
)

// statusOK is the status label of a successful request.
const statusOK = "ok"

// Metrics is one region's metrics and their registry.
type Metrics struct {
	region   string
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	capacity *prometheus.CounterVec
	latency  *prometheus.HistogramVec

	mu     sync.RWMutex // guards tables
	tables map[string]*tableCapacity
}

// tableCapacity holds one table's consumed-capacity counters.
type tableCapacity struct{ read, write prometheus.Counter }

// New returns the metrics of region, registered with the Go runtime and
// process collectors and with a collector reading src at scrape time.
func New(region string, src Source) *Metrics {
	m := &Metrics{
		region: region,
		reg:    prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "globaltables_requests_total",
			Help: "DynamoDB API requests answered, by operation and status (ok, or the DynamoDB error code).",
		}, []string{"operation", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "globaltables_request_duration_seconds",
			Help:    "Time to answer a DynamoDB API request, from its body read to its response encoded, by operation.",
			Buckets: requestBuckets,
		}, []string{"operation"}),
		capacity: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "globaltables_consumed_capacity_units_total",
			Help: "Capacity units consumed by requests, by table and kind (read or write), by DynamoDB's rules, whether or not requests asked for ReturnConsumedCapacity.",
		}, []string{"table", "kind"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "globaltables_replication_latency_seconds",
			Help:    "Replication latency of each change, from its commit in the source region to its apply in the destination (this region).",
			Buckets: replicationBuckets,
		}, []string{"source", "destination"}),
		tables: map[string]*tableCapacity{},
	}
	m.reg.MustRegister(m.requests, m.duration, m.capacity, m.latency,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	if src != nil {
		m.reg.MustRegister(&collector{region: region, src: src})
	}
	return m
}

// Registry returns the metrics' registry.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in Prometheus's text format (or OpenMetrics,
// if the scraper asks for it).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		EnableOpenMetrics: true,
		// A scrape reads the store's statistics and asks NATS for the
		// stream's state: a few at a time are plenty. No Timeout: it
		// would derive a context from the request's, which under
		// fasthttp's adaptor races with the server's shutdown; the
		// collector bounds its own wait (scrapeTimeout).
		MaxRequestsInFlight: 4,
	})
}

// Operation returns the observer of one operation's requests, with its
// label children resolved. It implements api.Metrics.
func (m *Metrics) Operation(op string) api.RequestObserver {
	return &operation{
		ok:       m.requests.WithLabelValues(op, statusOK),
		errs:     m.requests.MustCurryWith(prometheus.Labels{"operation": op}),
		duration: m.duration.WithLabelValues(op),
	}
}

// ConsumedCapacity adds consumed capacity units to table. It implements
// api.Metrics.
func (m *Metrics) ConsumedCapacity(table string, read, write float64) {
	m.mu.RLock()
	c := m.tables[table]
	m.mu.RUnlock()
	if c == nil {
		m.mu.Lock()
		if c = m.tables[table]; c == nil {
			c = &tableCapacity{
				read:  m.capacity.WithLabelValues(table, "read"),
				write: m.capacity.WithLabelValues(table, "write"),
			}
			m.tables[table] = c
		}
		m.mu.Unlock()
	}
	if read > 0 {
		c.read.Add(read)
	}
	if write > 0 {
		c.write.Add(write)
	}
}

// Latency returns the observer of the replication latencies of the link
// from source to this region, in seconds.
func (m *Metrics) Latency(source string) prometheus.Observer {
	return m.latency.WithLabelValues(source, m.region)
}

// operation records one operation's requests.
type operation struct {
	ok       prometheus.Counter
	errs     *prometheus.CounterVec // curried with the operation
	duration prometheus.Observer
}

// Done implements api.RequestObserver.
func (o *operation) Done(errCode string, d time.Duration) {
	if errCode == "" {
		o.ok.Inc()
	} else {
		o.errs.WithLabelValues(errCode).Inc()
	}
	o.duration.Observe(d.Seconds())
}
