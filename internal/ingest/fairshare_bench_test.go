package ingest

import (
	"strconv"
	"testing"
)

// BenchmarkStageFairShareServices: the cost of Offer per record (one-line
// batches, the worst case) into a full buffer shared by 1 to 10,000
// services, each holding its part: every offer evicts (or is refused),
// holders come and go. ns/op and allocs/op should not grow with the
// number of services.
func BenchmarkStageFairShareServices(b *testing.B) {
	for _, services := range []int{1, 100, 10_000} {
		b.Run("services="+strconv.Itoa(services), func(b *testing.B) {
			keys := make([]string, services)
			for i := range keys {
				keys[i] = "service-" + strconv.Itoa(i) + ".service"
			}
			cfg := DefaultBufferConfig()
			cfg.MaxBytes = 4 << 20
			cfg.FairShare.MaxServices = 16_384
			s := NewStage(cfg, StageSettings{Next: &switchConsumer{}, OnServiceDrop: func(string, string, int) {}})
			// Not started: nothing drains, so the buffer stays full.
			// Every service's share, and then the largest holder twice over.
			warm := int(cfg.MaxBytes/LinesBatchSize(100, 1)) + services
			for i := range warm {
				s.Offer(Batch{Key: keys[i%services], Size: LinesBatchSize(100, 1), Records: 1})
			}
			for range warm {
				s.Offer(Batch{Key: keys[0], Size: LinesBatchSize(100, 1), Records: 1})
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				s.Offer(Batch{Key: keys[i%services], Size: LinesBatchSize(100, 1), Records: 1})
			}
			b.StopTimer()
			if s.Held() > cfg.MaxBytes {
				b.Fatalf("held %d > %d", s.Held(), cfg.MaxBytes)
			}
		})
	}
}
