/*
 * tsckhz - print the host's TSC frequency in kHz.
 *
 * Under TCG the guest's TSC runs at the host's rate, and on a busy host the
 * guest kernel's quick PIT calibration can fail, leaving it without a clock
 * (the boot then hangs).  guest/run.sh measures the rate here and gives it
 * to the guest kernel as tsc_early_khz=.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(void)
{
	const struct timespec pause = { 0, 20 * 1000 * 1000 };
	double best = 0, best_err = 1e18;
	int i;

	/* Several short windows; keep the one whose end points were read
	 * closest together (the least disturbed by preemption). */
	for (i = 0; i < 5; i++) {
		double t0a = now_ns();
		uint64_t c0 = __rdtsc();
		double t0b = now_ns();
		double t1a, t1b, err;
		uint64_t c1;

		nanosleep(&pause, NULL);
		t1a = now_ns();
		c1 = __rdtsc();
		t1b = now_ns();
		err = (t0b - t0a) + (t1b - t1a);
		if (err < best_err) {
			best_err = err;
			best = (double)(c1 - c0) / (((t1a + t1b) - (t0a + t0b)) / 2) * 1e6;
		}
	}
	printf("%.0f\n", best);
	return 0;
}
