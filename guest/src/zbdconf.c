/*
 * zbdconf - differential conformance test of two zoned block devices.
 *
 * The same sequence of operations (writes at and off the write pointer,
 * reads, explicit open/close/finish/reset of zones and zone ranges,
 * reset-all, flushes) is run against device A and device B, and after every
 * operation both the results (byte count or errno) and the full zone reports
 * (start, length, capacity, write pointer, type, condition, flags) must be
 * identical.  Reads compare the data returned too.  Device B is meant to be
 * a reference (null_blk with the same geometry), device A the device under
 * test (a virtio-blk disk backed by a zoned qcow2 image).
 *
 * A run is a set of hand-written edge cases followed by random sequences
 * drawn from a fixed seed, each starting from a reset-all.
 *
 * Other modes: --report DEV prints one line per zone; --geometry DEV prints
 * the geometry as shell assignments; --io writes or checks a pattern that
 * depends only on the offset (for persistence tests) or flushes.
 *
 * Zone management goes through the BLK*ZONE ioctls directly so that the
 * device sees exactly the ranges given (and the errno is the kernel's);
 * libzbd is used to open the devices, get their geometry and report zones.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/blkzoned.h>
#include <linux/fs.h>
#include <libzbd/zbd.h>

#define BUF_SIZE	(1024 * 1024)
#define LOG_LINES	64
#define LOG_WIDTH	200

struct dev {
	const char *path;
	int fd;
	struct zbd_info info;
	struct zbd_zone *zones;		/* the last report */
	unsigned int nr_zones;
};

enum op_kind {
	OP_WRITE, OP_READ, OP_OPEN, OP_CLOSE, OP_FINISH, OP_RESET,
	OP_RESET_ALL, OP_FLUSH,
};

static const char *const op_names[] = {
	[OP_WRITE] = "write", [OP_READ] = "read", [OP_OPEN] = "open",
	[OP_CLOSE] = "close", [OP_FINISH] = "finish", [OP_RESET] = "reset",
	[OP_RESET_ALL] = "reset-all", [OP_FLUSH] = "flush",
};

struct op {
	enum op_kind kind;
	uint64_t ofs;
	uint64_t len;
};

/* Options. */
static uint64_t opt_seed = 1;
static unsigned int opt_sequences = 200;
static unsigned int opt_ops = 40;
static unsigned int opt_max_diffs = 10;
static unsigned int opt_time_limit;
static int opt_edge = 1, opt_random = 1, opt_strict_wp, opt_verbose;
static unsigned long opt_skip_b_op;	/* testing aid: drop op N on B */

static struct dev devs[2];
static uint64_t rng_state;
static unsigned char *wbuf, *rbuf[2];
static uint64_t pattern_serial;

/*
 * Reads of data that was never written (above the write pointer, or above
 * the old write pointer of a finished zone) return a fill pattern that
 * devices choose (null_blk: 0xff above the WP, zeros in finished zones; the
 * zoned qcow2 spec: zeros).  Such bytes only have to be 0x00 or 0xff (not
 * stale data); what each device returned is reported, and compared with
 * --strict-fill or checked against --expect-fill-a.
 */
static uint64_t *written_end;		/* per zone: end of written data */
static unsigned char *was_full;		/* per zone: full before this op */
static int fill_seen[2];		/* 1: read 0x00 fill, 2: read 0xff */
static int opt_strict_fill, opt_expect_fill_a = -1;

/* Geometry, taken from device A once both are known to agree. */
static uint64_t zone_size, dev_size, blk;
static unsigned int nr_zones, max_open, max_active;
static unsigned int *seq_idx, nr_seq;	/* indexes of sequential zones */
static unsigned int *cnv_idx, nr_cnv;	/* ... and of conventional zones */

/* Statistics. */
static unsigned long st_ops, st_errors, st_diffs, st_sequences, st_cases;
static unsigned long st_by_errno[3];	/* EIO, ETOOMANYREFS, EOVERFLOW */

/* What the current sequence did, printed when a difference is found. */
static char seq_log[LOG_LINES][LOG_WIDTH];
static unsigned int seq_log_n;
static char seq_name[96];
static int seq_failed;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("zbdconf: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* splitmix64 */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static int chance(unsigned int percent)
{
	return rnd_below(100) < percent;
}

static const char *errname(long err)
{
	static char other[32];

	switch (err) {
	case EIO: return "EIO";
	case EINVAL: return "EINVAL";
	case ETOOMANYREFS: return "ETOOMANYREFS(open-resource)";
	case EOVERFLOW: return "EOVERFLOW(active-resource)";
	case ENOSPC: return "ENOSPC";
	case EBADF: return "EBADF";
	case ENOTTY: return "ENOTTY";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EAGAIN: return "EAGAIN";
	case ENXIO: return "ENXIO";
	case EFBIG: return "EFBIG";
	case ENODEV: return "ENODEV";
	}
	snprintf(other, sizeof(other), "errno %ld", err);
	return other;
}

static void fmt_result(char *s, size_t n, long ret)
{
	if (ret >= 0)
		snprintf(s, n, "%ld", ret);
	else
		snprintf(s, n, "-%s", errname(-ret));
}

static const char *cond_name(unsigned int c)
{
	switch (c) {
	case ZBD_ZONE_COND_NOT_WP: return "nw";
	case ZBD_ZONE_COND_EMPTY: return "em";
	case ZBD_ZONE_COND_IMP_OPEN: return "oi";
	case ZBD_ZONE_COND_EXP_OPEN: return "oe";
	case ZBD_ZONE_COND_CLOSED: return "cl";
	case ZBD_ZONE_COND_FULL: return "fu";
	case ZBD_ZONE_COND_READONLY: return "ro";
	case ZBD_ZONE_COND_OFFLINE: return "ol";
	}
	return "??";
}

static const char *type_name(unsigned int t)
{
	switch (t) {
	case ZBD_ZONE_TYPE_CNV: return "CONV";
	case ZBD_ZONE_TYPE_SWR: return "SWR";
	case ZBD_ZONE_TYPE_SWP: return "SWP";
	}
	return "?";
}

static void seq_logf(const char *fmt, ...)
{
	va_list ap;
	char *line = seq_log[seq_log_n % LOG_LINES];

	va_start(ap, fmt);
	vsnprintf(line, LOG_WIDTH, fmt, ap);
	va_end(ap);
	seq_log_n++;
	if (opt_verbose)
		printf("  %s\n", line);
}

static void open_dev(struct dev *d, const char *path)
{
	d->path = path;
	d->fd = zbd_open(path, O_RDWR | O_DIRECT | O_LARGEFILE, &d->info);
	if (d->fd < 0)
		die("cannot open %s as a zoned block device (%s)", path,
		    strerror(errno));
	d->nr_zones = d->info.nr_zones;
	d->zones = calloc(d->nr_zones ? d->nr_zones : 1, sizeof(*d->zones));
	if (!d->zones)
		die("out of memory");
}

static int report(struct dev *d)
{
	unsigned int nr = d->info.nr_zones;
	int ret;

	ret = zbd_report_zones(d->fd, 0, 0, ZBD_RO_ALL, d->zones, &nr);
	if (ret < 0)
		return ret;
	d->nr_zones = nr;
	return 0;
}

static unsigned int zone_of(uint64_t ofs)
{
	return ofs / zone_size;
}

/* A 64-bit pattern that is different for every write and every word. */
static void fill_pattern(uint64_t ofs, uint64_t len)
{
	uint64_t *w = (uint64_t *)wbuf;
	uint64_t i, tag = ++pattern_serial << 40;

	for (i = 0; i < len / 8; i++)
		w[i] = tag ^ (ofs + i * 8) ^ 0x5a5a000000000000ULL;
}

static long do_op(int i, const struct op *op)
{
	struct dev *d = &devs[i];
	struct blk_zone_range r = {
		.sector = op->ofs >> 9,
		.nr_sectors = op->len >> 9,
	};
	unsigned long req;
	ssize_t n;

	switch (op->kind) {
	case OP_WRITE:
		n = pwrite(d->fd, wbuf, op->len, op->ofs);
		return n < 0 ? -errno : n;
	case OP_READ:
		memset(rbuf[i], 0xee, op->len);
		n = pread(d->fd, rbuf[i], op->len, op->ofs);
		return n < 0 ? -errno : n;
	case OP_OPEN: req = BLKOPENZONE; break;
	case OP_CLOSE: req = BLKCLOSEZONE; break;
	case OP_FINISH: req = BLKFINISHZONE; break;
	case OP_RESET: req = BLKRESETZONE; break;
	case OP_RESET_ALL:
		/* The whole device: the kernel sends one ZONE_RESET_ALL. */
		r.sector = 0;
		r.nr_sectors = d->info.nr_sectors;
		req = BLKRESETZONE;
		break;
	case OP_FLUSH:
		return fsync(d->fd) < 0 ? -errno : 0;
	default:
		return -EINVAL;
	}
	return ioctl(d->fd, req, &r) < 0 ? -errno : 0;
}

static void print_zone(const char *who, unsigned int i, const struct zbd_zone *z)
{
	printf("    %s zone %u: start %llu len %llu cap %llu wp %llu %s %s flags %#x\n",
	       who, i, z->start, z->len, z->capacity, z->wp, type_name(z->type),
	       cond_name(z->cond), z->flags);
}

/* Does the write pointer of this zone carry meaning? */
static int wp_meaningful(const struct zbd_zone *z)
{
	if (opt_strict_wp)
		return 1;
	return z->type != ZBD_ZONE_TYPE_CNV && z->cond != ZBD_ZONE_COND_FULL &&
	       z->cond != ZBD_ZONE_COND_OFFLINE && z->cond != ZBD_ZONE_COND_READONLY;
}

static unsigned int compare_reports(void)
{
	struct dev *a = &devs[0], *b = &devs[1];
	unsigned int i, diffs = 0;

	if (a->nr_zones != b->nr_zones) {
		printf("    report: %u zones on A, %u on B\n", a->nr_zones,
		       b->nr_zones);
		return 1;
	}
	for (i = 0; i < a->nr_zones; i++) {
		const struct zbd_zone *za = &a->zones[i], *zb = &b->zones[i];

		if (za->start == zb->start && za->len == zb->len &&
		    za->capacity == zb->capacity && za->type == zb->type &&
		    za->cond == zb->cond && za->flags == zb->flags &&
		    (za->wp == zb->wp || !wp_meaningful(za)))
			continue;
		if (diffs++ < 8) {
			print_zone("A", i, za);
			print_zone("B", i, zb);
		}
	}
	if (diffs > 8)
		printf("    ... %u zones differ\n", diffs);
	return diffs;
}

static const struct zbd_zone *Z(unsigned int idx);
static uint64_t zstart(unsigned int idx);
static uint64_t zcapend(unsigned int idx);
static uint64_t zend(unsigned int idx);

static void report_difference(const char *what)
{
	unsigned int i, first;

	st_diffs++;
	seq_failed = 1;
	printf("DIFF in %s: %s\n", seq_name, what);
	first = seq_log_n > LOG_LINES ? seq_log_n - LOG_LINES : 0;
	printf("  operations so far (A result / B result):\n");
	for (i = first; i < seq_log_n; i++)
		printf("    %4u %s\n", i, seq_log[i % LOG_LINES]);
}

/* Where data was written in each sequential zone, after a successful op. */
static void track_written(const struct op *op, long ret)
{
	unsigned int z;

	for (z = 0; z < nr_zones; z++) {
		const struct zbd_zone *zz = Z(z);

		if (zz->type == ZBD_ZONE_TYPE_CNV)
			continue;
		if (zz->cond != ZBD_ZONE_COND_FULL) {
			written_end[z] = zz->wp;
			continue;
		}
		if (op->kind == OP_WRITE && ret > 0 && op->ofs < zend(z) &&
		    op->ofs + ret > zstart(z)) {
			uint64_t e = op->ofs + ret < zend(z) ? op->ofs + ret : zend(z);

			if (e > written_end[z])
				written_end[z] = e;
		} else if (op->kind == OP_WRITE && ret < 0 && !was_full[z] &&
			   op->ofs < zend(z) && op->ofs + op->len > zstart(z)) {
			/*
			 * A failed write filled this zone: the kernel split it
			 * (at the zone end or by the queue limits) and the part
			 * in this zone succeeded on both devices.
			 */
			written_end[z] = zcapend(z);
		}
	}
	for (z = 0; z < nr_zones; z++)
		was_full[z] = Z(z)->cond == ZBD_ZONE_COND_FULL;
}

static int unwritten(uint64_t pos)
{
	unsigned int z = zone_of(pos);

	return z < nr_zones && Z(z)->type != ZBD_ZONE_TYPE_CNV &&
	       pos >= written_end[z];
}

/* Compare what both devices read at [ofs, ofs + n); 0 if they agree. */
static int compare_read(uint64_t ofs, uint64_t n, char *msg, size_t size)
{
	uint64_t k;
	int i;

	for (k = 0; k < n; k++) {
		if (!unwritten(ofs + k)) {
			if (rbuf[0][k] != rbuf[1][k]) {
				snprintf(msg, size, "read data differs at offset %llu "
					 "(A %#x, B %#x)", (unsigned long long)(ofs + k),
					 rbuf[0][k], rbuf[1][k]);
				return 1;
			}
			continue;
		}
		for (i = 0; i < 2; i++) {
			unsigned char c = rbuf[i][k];

			if (c != 0x00 && c != 0xff) {
				snprintf(msg, size, "unwritten data of %s at offset %llu "
					 "is %#x: neither a 0x00 nor a 0xff fill "
					 "(stale data?)", i ? "B" : "A",
					 (unsigned long long)(ofs + k), c);
				return 1;
			}
			fill_seen[i] |= c ? 2 : 1;
		}
		if (opt_strict_fill && rbuf[0][k] != rbuf[1][k]) {
			snprintf(msg, size, "unwritten data at offset %llu: A %#x, B %#x",
				 (unsigned long long)(ofs + k), rbuf[0][k], rbuf[1][k]);
			return 1;
		}
		if (opt_expect_fill_a >= 0 && rbuf[0][k] != opt_expect_fill_a) {
			snprintf(msg, size, "unwritten data of A at offset %llu is %#x, "
				 "expected %#x", (unsigned long long)(ofs + k),
				 rbuf[0][k], opt_expect_fill_a);
			return 1;
		}
	}
	return 0;
}

/* Verbose mode: the zones that are not empty, as "zone:cond+wp". */
static void print_states(void)
{
	const struct dev *a = &devs[0];
	unsigned int i;

	printf("      ");
	for (i = 0; i < a->nr_zones; i++) {
		const struct zbd_zone *z = &a->zones[i];

		if (z->cond == ZBD_ZONE_COND_EMPTY || z->cond == ZBD_ZONE_COND_NOT_WP)
			continue;
		printf(" %u:%s+%llu", i, cond_name(z->cond),
		       (z->wp - z->start) / 512);
	}
	printf("\n");
}

/*
 * Run one operation on both devices and compare the outcome.  Returns the
 * result on device A (so that callers can chain), or -ECANCELED once the
 * sequence has diverged.
 */
static long apply(enum op_kind kind, uint64_t ofs, uint64_t len)
{
	struct op op = { .kind = kind, .ofs = ofs, .len = len };
	long ret[2];
	char ra[48], rb[48], msg[160];
	int i;

	if (seq_failed)
		return -ECANCELED;
	if (kind == OP_WRITE || kind == OP_READ) {
		if (len > BUF_SIZE)
			op.len = len = BUF_SIZE;
		if (kind == OP_WRITE)
			fill_pattern(ofs, len);
	}
	st_ops++;
	for (i = 0; i < 2; i++) {
		if (i == 1 && st_ops == opt_skip_b_op)
			ret[1] = ret[0];	/* pretend B did it too */
		else
			ret[i] = do_op(i, &op);
	}
	if (ret[0] < 0) {
		st_errors++;
		if (-ret[0] == EIO)
			st_by_errno[0]++;
		else if (-ret[0] == ETOOMANYREFS)
			st_by_errno[1]++;
		else if (-ret[0] == EOVERFLOW)
			st_by_errno[2]++;
	}
	fmt_result(ra, sizeof(ra), ret[0]);
	fmt_result(rb, sizeof(rb), ret[1]);
	seq_logf("%-9s ofs %llu (zone %u +%llu) len %llu -> %s / %s",
		 op_names[kind], (unsigned long long)ofs, zone_of(ofs),
		 (unsigned long long)(ofs % zone_size),
		 (unsigned long long)len, ra, rb);
	if (ret[0] != ret[1]) {
		snprintf(msg, sizeof(msg), "%s results differ: A %s, B %s",
			 op_names[kind], ra, rb);
		report_difference(msg);
		return -ECANCELED;
	}
	if (kind == OP_READ && ret[0] > 0 &&
	    compare_read(ofs, ret[0], msg, sizeof(msg))) {
		report_difference(msg);
		return -ECANCELED;
	}
	for (i = 0; i < 2; i++) {
		int r = report(&devs[i]);

		if (r < 0) {
			snprintf(msg, sizeof(msg), "zone report of %s failed (%d)",
				 i ? "B" : "A", r);
			report_difference(msg);
			return -ECANCELED;
		}
	}
	if (compare_reports()) {
		report_difference("zone reports differ (above)");
		return -ECANCELED;
	}
	track_written(&op, ret[0]);
	if (opt_verbose)
		print_states();
	return ret[0];
}

static void start_sequence(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(seq_name, sizeof(seq_name), fmt, ap);
	va_end(ap);
	seq_log_n = 0;
	seq_failed = 0;
	if (opt_verbose)
		printf("%s\n", seq_name);
	apply(OP_RESET_ALL, 0, 0);
}

/* Zone helpers, on device A's last report (identical to B's by now). */
static const struct zbd_zone *Z(unsigned int idx)
{
	return &devs[0].zones[idx];
}

static uint64_t zstart(unsigned int idx) { return Z(idx)->start; }
static uint64_t zcap(unsigned int idx) { return Z(idx)->capacity; }
static uint64_t zwp(unsigned int idx) { return Z(idx)->wp; }
static uint64_t zend(unsigned int idx) { return Z(idx)->start + Z(idx)->len; }
static uint64_t zcapend(unsigned int idx) { return Z(idx)->start + Z(idx)->capacity; }

/* The i-th sequential zone. */
static unsigned int S(unsigned int i) { return seq_idx[i % nr_seq]; }

static void fill_zone(unsigned int z)
{
	while (!seq_failed && Z(z)->cond != ZBD_ZONE_COND_FULL &&
	       zwp(z) < zcapend(z)) {
		uint64_t n = zcapend(z) - zwp(z);

		if (apply(OP_WRITE, zwp(z), n > BUF_SIZE ? BUF_SIZE : n) < 0)
			break;
	}
}

/* ---- hand-written edge cases ---- */

static void case_write_pointer(void)
{
	unsigned int z = S(0);

	start_sequence("edge: writes at and off the write pointer");
	apply(OP_WRITE, zstart(z), blk);
	apply(OP_WRITE, zwp(z), 8 * blk);
	apply(OP_WRITE, zwp(z) + blk, blk);		/* beyond the WP */
	apply(OP_WRITE, zwp(z) - blk, blk);		/* below the WP */
	apply(OP_WRITE, zstart(z), blk);		/* zone start, non-empty */
	apply(OP_WRITE, zwp(z) - blk, 2 * blk);		/* straddles the WP */
	apply(OP_WRITE, zwp(z), 0);			/* zero length */
	apply(OP_WRITE, zwp(z), 3 * blk);
	apply(OP_READ, zstart(z), 16 * blk);		/* data and zeros */
	apply(OP_READ, zwp(z), blk);			/* above the WP */
	apply(OP_FLUSH, 0, 0);
}

static void case_capacity(void)
{
	unsigned int z = S(1 % nr_seq);

	start_sequence("edge: zone capacity and full zones");
	apply(OP_WRITE, zstart(z), blk);
	while (!seq_failed && zcapend(z) - zwp(z) > 4 * blk) {
		uint64_t n = zcapend(z) - zwp(z) - 4 * blk;

		apply(OP_WRITE, zwp(z), n > BUF_SIZE ? BUF_SIZE : n);
	}
	apply(OP_WRITE, zwp(z), 8 * blk);		/* crosses capacity */
	apply(OP_WRITE, zwp(z), 4 * blk);		/* exactly to capacity */
	apply(OP_WRITE, zcapend(z), blk);		/* zone is full */
	apply(OP_WRITE, zstart(z), blk);
	if (zcap(z) < Z(z)->len) {
		apply(OP_WRITE, zcapend(z), blk);	/* gap above capacity */
		apply(OP_READ, zcapend(z) - blk, 2 * blk);
	}
	apply(OP_READ, zcapend(z) - 4 * blk, 4 * blk);
	apply(OP_RESET, zstart(z), zone_size);
	apply(OP_READ, zstart(z), 8 * blk);		/* zeros after reset */
	apply(OP_WRITE, zstart(z), blk);
}

static void case_boundaries(void)
{
	unsigned int z = S(0), last = nr_zones - 1;

	start_sequence("edge: zone and device boundaries");
	fill_zone(z);
	apply(OP_READ, zend(z) - 2 * blk, 4 * blk);	/* across zones */
	if (zcap(z) == Z(z)->len && z + 1 < nr_zones) {
		/* Refill all but the last blocks, then cross into the next. */
		apply(OP_RESET, zstart(z), zone_size);
		while (!seq_failed && zend(z) - zwp(z) > 2 * blk) {
			uint64_t n = zend(z) - zwp(z) - 2 * blk;

			apply(OP_WRITE, zwp(z), n > BUF_SIZE ? BUF_SIZE : n);
		}
		apply(OP_WRITE, zwp(z), 4 * blk);
	}
	apply(OP_WRITE, zstart(last), blk);
	apply(OP_WRITE, dev_size - blk, blk);		/* last block */
	apply(OP_WRITE, dev_size, blk);			/* past the end */
	apply(OP_READ, dev_size - blk, 2 * blk);
	apply(OP_READ, dev_size, blk);
	apply(OP_RESET, zstart(last), zend(last) - zstart(last));
	apply(OP_RESET, zstart(last) + blk, zone_size); /* misaligned */
	apply(OP_OPEN, zstart(z), zone_size / 2);	/* partial zone */
	apply(OP_FINISH, zstart(last), 2 * zone_size);	/* past the end */
}

static void case_transitions(void)
{
	unsigned int z = S(0), y = S(1);

	start_sequence("edge: zone condition transitions");
	apply(OP_CLOSE, zstart(z), zone_size);		/* empty -> ? */
	apply(OP_OPEN, zstart(z), zone_size);		/* empty -> exp open */
	apply(OP_OPEN, zstart(z), zone_size);		/* again */
	apply(OP_CLOSE, zstart(z), zone_size);		/* exp open, empty */
	apply(OP_WRITE, zwp(z), blk);			/* implicit open */
	apply(OP_OPEN, zstart(z), zone_size);		/* imp -> exp */
	apply(OP_CLOSE, zstart(z), zone_size);		/* -> closed */
	apply(OP_CLOSE, zstart(z), zone_size);		/* closed again */
	apply(OP_WRITE, zwp(z), blk);			/* closed -> imp open */
	apply(OP_FINISH, zstart(z), zone_size);		/* -> full */
	apply(OP_FINISH, zstart(z), zone_size);		/* full again */
	apply(OP_OPEN, zstart(z), zone_size);		/* open a full zone */
	apply(OP_CLOSE, zstart(z), zone_size);		/* close a full zone */
	apply(OP_READ, zstart(z), 4 * blk);
	apply(OP_RESET, zstart(z), zone_size);		/* full -> empty */
	apply(OP_RESET, zstart(z), zone_size);		/* empty again */
	apply(OP_FINISH, zstart(y), zone_size);		/* empty -> full */
	apply(OP_READ, zstart(y), 4 * blk);
	apply(OP_RESET, zstart(y), zone_size);
	apply(OP_OPEN, zstart(y), zone_size);
	apply(OP_FINISH, zstart(y), zone_size);		/* exp open -> full */
	apply(OP_OPEN, zstart(z), 2 * zone_size);	/* two zones at once */
	apply(OP_CLOSE, zstart(z), 2 * zone_size);
	apply(OP_RESET, zstart(z), 2 * zone_size);
	apply(OP_WRITE, zstart(z), blk);
	apply(OP_RESET_ALL, 0, 0);
}

static void case_conventional(void)
{
	unsigned int c;

	if (!nr_cnv)
		return;
	c = cnv_idx[0];
	start_sequence("edge: conventional zones");
	apply(OP_WRITE, zstart(c) + 7 * blk, 3 * blk);	/* anywhere */
	apply(OP_WRITE, zstart(c), blk);
	apply(OP_READ, zstart(c), 16 * blk);
	apply(OP_OPEN, zstart(c), zone_size);
	apply(OP_CLOSE, zstart(c), zone_size);
	apply(OP_FINISH, zstart(c), zone_size);
	apply(OP_RESET, zstart(c), zone_size);
	apply(OP_READ, zstart(c), 16 * blk);		/* reset kept data? */
	apply(OP_RESET_ALL, 0, 0);			/* must keep it */
	apply(OP_READ, zstart(c), 16 * blk);
	/* The last conventional zone into the first sequential one. */
	c = cnv_idx[nr_cnv - 1];
	if (c + 1 < nr_zones && Z(c + 1)->type != ZBD_ZONE_TYPE_CNV) {
		apply(OP_WRITE, zend(c) - 2 * blk, 4 * blk);
		apply(OP_READ, zend(c) - 2 * blk, 4 * blk);
	}
}

static void case_open_limit(void)
{
	unsigned int i, n = max_open ? max_open : 4;

	if (nr_seq < n + 2)
		return;
	start_sequence("edge: explicit opens up to and past the open limit");
	for (i = 0; i < n + 1; i++)
		apply(OP_OPEN, zstart(S(i)), zone_size);
	apply(OP_WRITE, zstart(S(n + 1)), blk);		/* all open explicitly */
	apply(OP_CLOSE, zstart(S(0)), zone_size);
	apply(OP_WRITE, zstart(S(n + 1)), blk);
	apply(OP_OPEN, zstart(S(0)), zone_size);

	start_sequence("edge: implicit opens past the open limit");
	for (i = 0; i < n + 1; i++)
		apply(OP_WRITE, zstart(S(i)), blk);	/* implicit closes */
	apply(OP_WRITE, zwp(S(0)), blk);		/* reopen the first */
	apply(OP_WRITE, zwp(S(1)), blk);
	for (i = 0; i < n + 1; i++)
		apply(OP_WRITE, zwp(S(n + 1 - i)), blk);

	start_sequence("edge: explicit open with implicitly open zones");
	for (i = 0; i < n; i++)
		apply(OP_WRITE, zstart(S(i)), blk);
	apply(OP_OPEN, zstart(S(n)), zone_size);	/* closes one */
	apply(OP_OPEN, zstart(S(n + 1)), zone_size);
	for (i = 0; i < n; i++)
		apply(OP_OPEN, zstart(S(i)), zone_size);
	apply(OP_WRITE, zwp(S(2)), blk);

	start_sequence("edge: mixed explicit and implicit opens");
	for (i = 0; i + 1 < n; i++)
		apply(OP_OPEN, zstart(S(i)), zone_size);
	apply(OP_WRITE, zstart(S(n)), blk);
	apply(OP_WRITE, zstart(S(n + 1)), blk);		/* closes S(n) */
	apply(OP_WRITE, zwp(S(n)), blk);		/* and back */
	apply(OP_FINISH, zstart(S(0)), zone_size);
	apply(OP_WRITE, zwp(S(n + 1)), blk);
}

static void case_active_limit(void)
{
	unsigned int i, n = max_active ? max_active : 6;

	if (nr_seq < n + 2)
		return;
	start_sequence("edge: active limit with closed zones");
	for (i = 0; i < n; i++) {
		apply(OP_WRITE, zstart(S(i)), blk);
		apply(OP_CLOSE, zstart(S(i)), zone_size);
	}
	apply(OP_WRITE, zstart(S(n)), blk);		/* too many active */
	apply(OP_OPEN, zstart(S(n)), zone_size);
	apply(OP_FINISH, zstart(S(n)), zone_size);	/* empty -> full? */
	apply(OP_WRITE, zwp(S(0)), blk);		/* closed -> open */
	apply(OP_FINISH, zstart(S(0)), zone_size);	/* frees one */
	apply(OP_WRITE, zstart(S(n)), blk);
	apply(OP_WRITE, zstart(S(n + 1)), blk);
	apply(OP_RESET, zstart(S(1)), zone_size);	/* frees one */
	apply(OP_OPEN, zstart(S(n + 1)), zone_size);
	apply(OP_OPEN, zstart(S(1)), zone_size);

	start_sequence("edge: active limit with explicitly open empty zones");
	for (i = 0; i < n; i++)
		apply(OP_OPEN, zstart(S(i)), zone_size);
	for (i = 0; i < n; i++)
		apply(OP_CLOSE, zstart(S(i)), zone_size);
	apply(OP_WRITE, zstart(S(n)), blk);
	apply(OP_RESET_ALL, 0, 0);
	apply(OP_WRITE, zstart(S(n)), blk);
}

static void case_fill_finish_reset(void)
{
	unsigned int i, n = nr_seq < 4 ? nr_seq : 4;

	start_sequence("edge: fill, finish and reset several zones");
	for (i = 0; i < n; i++)
		fill_zone(S(i));
	apply(OP_READ, zstart(S(0)), BUF_SIZE);
	apply(OP_RESET, zstart(S(0)), 2 * zone_size);
	apply(OP_WRITE, zstart(S(0)), 16 * blk);
	apply(OP_FINISH, zstart(S(0)), zone_size);
	apply(OP_READ, zstart(S(0)), 32 * blk);
	apply(OP_RESET_ALL, 0, 0);
	apply(OP_READ, zstart(S(2)), 32 * blk);
}

static void run_edge_cases(void)
{
	static void (*const cases[])(void) = {
		case_write_pointer, case_capacity, case_boundaries,
		case_transitions, case_conventional, case_open_limit,
		case_active_limit, case_fill_finish_reset,
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (st_diffs >= opt_max_diffs)
			return;
		cases[i]();
		st_cases++;
	}
}

/* ---- random sequences ---- */

/* A sequential zone, mostly among the first few so that limits are hit. */
static unsigned int pick_seq(void)
{
	unsigned int hot = (max_open > max_active ? max_open : max_active) + 2;

	if (hot < 4)
		hot = 4;
	if (hot > nr_seq || chance(15))
		hot = nr_seq;
	return S(rnd_below(hot));
}

static uint64_t pick_len(void)
{
	unsigned int r = rnd_below(100);
	uint64_t n;

	if (r < 45)
		n = 1 + rnd_below(8);
	else if (r < 75)
		n = 8 + rnd_below(56);
	else if (r < 93)
		n = 64 + rnd_below(448);
	else
		n = 1 + rnd_below(BUF_SIZE / blk);
	n *= blk;
	return n > BUF_SIZE ? BUF_SIZE : n;
}

static void random_write(void)
{
	unsigned int z = pick_seq();
	uint64_t ofs = zwp(z), len = pick_len(), room;
	unsigned int r = rnd_below(100);

	if (Z(z)->cond == ZBD_ZONE_COND_FULL)
		ofs = chance(50) ? zstart(z) : zcapend(z) - blk;
	room = ofs < zcapend(z) ? zcapend(z) - ofs : 0;
	if (r < 15 && room)
		len = room > BUF_SIZE ? BUF_SIZE : room;	/* to capacity */
	else if (r < 22 && room && room + 8 * blk <= BUF_SIZE)
		len = room + (1 + rnd_below(8)) * blk;	/* past capacity */
	apply(OP_WRITE, ofs, len);
}

static void random_bad_write(void)
{
	unsigned int z = pick_seq();
	uint64_t wp = zwp(z), ofs;

	switch (rnd_below(4)) {
	case 0:
		ofs = wp + (1 + rnd_below(8)) * blk;
		break;
	case 1:
		ofs = wp > zstart(z) ? wp - blk : wp + blk;
		break;
	case 2:
		ofs = zstart(z) + rnd_below(zone_size / blk) * blk;
		break;
	default:
		/* straddling the end of the zone */
		ofs = zend(z) - (1 + rnd_below(4)) * blk;
		apply(OP_WRITE, ofs, 8 * blk);
		return;
	}
	apply(OP_WRITE, ofs, pick_len());
}

static void random_conv_write(void)
{
	unsigned int c = cnv_idx[rnd_below(nr_cnv)];
	uint64_t ofs = zstart(c) + rnd_below(zone_size / blk) * blk;

	apply(OP_WRITE, ofs, pick_len());
}

static void random_read(void)
{
	unsigned int z = rnd_below(nr_zones);
	uint64_t ofs;

	if (chance(50) && Z(z)->type != ZBD_ZONE_TYPE_CNV)
		ofs = zstart(z);
	else
		ofs = zstart(z) + rnd_below(zone_size / blk) * blk;
	if (ofs >= dev_size)
		ofs = dev_size - blk;
	apply(OP_READ, ofs, pick_len());
}

static void random_mgmt(void)
{
	static const enum op_kind kinds[] = { OP_OPEN, OP_CLOSE, OP_FINISH, OP_RESET };
	enum op_kind k = kinds[rnd_below(4)];
	unsigned int r = rnd_below(100), z;
	uint64_t ofs, len = zone_size;

	if (r < 80) {
		z = pick_seq();
		ofs = zstart(z);
	} else if (r < 86 && nr_cnv) {
		ofs = zstart(cnv_idx[rnd_below(nr_cnv)]);
	} else if (r < 95) {
		z = pick_seq();
		ofs = zstart(z);
		len = (2 + rnd_below(2)) * zone_size;
		if (ofs + len > dev_size)
			len = dev_size - ofs;
	} else {
		z = pick_seq();
		ofs = zstart(z) + blk * (1 + rnd_below(8));	/* misaligned */
	}
	apply(k, ofs, len);
}

static void random_sequence(unsigned int n)
{
	unsigned int i, r;

	start_sequence("random sequence %u (seed %llu)", n,
		       (unsigned long long)opt_seed);
	for (i = 0; i < opt_ops && !seq_failed; i++) {
		r = rnd_below(100);
		if (r < 38)
			random_write();
		else if (r < 48)
			random_bad_write();
		else if (r < 53 && nr_cnv)
			random_conv_write();
		else if (r < 63)
			random_read();
		else if (r < 93)
			random_mgmt();
		else if (r < 95)
			apply(OP_RESET_ALL, 0, 0);
		else if (r < 97)
			apply(OP_FLUSH, 0, 0);
		else
			fill_zone(pick_seq());
	}
}

/* ---- setup and modes ---- */

static void check_geometry(void)
{
	struct zbd_info *a = &devs[0].info, *b = &devs[1].info;
	int bad = 0;

#define SAME(f) do { \
	if (a->f != b->f) { \
		printf("GEOMETRY %s: A %llu, B %llu\n", #f, \
		       (unsigned long long)a->f, (unsigned long long)b->f); \
		bad = 1; \
	} } while (0)
	SAME(nr_sectors);
	SAME(zone_size);
	SAME(nr_zones);
	SAME(lblock_size);
	SAME(max_nr_open_zones);
	SAME(max_nr_active_zones);
	SAME(model);
#undef SAME
	if (bad)
		die("the two devices do not have the same geometry");
}

static void setup_geometry(void)
{
	struct dev *a = &devs[0];
	unsigned int i;

	zone_size = a->info.zone_size;
	dev_size = a->info.nr_sectors << 9;
	blk = a->info.lblock_size;
	nr_zones = a->info.nr_zones;
	max_open = a->info.max_nr_open_zones;
	max_active = a->info.max_nr_active_zones;
	if (report(a) < 0 || report(&devs[1]) < 0)
		die("zone report failed");
	written_end = calloc(nr_zones, sizeof(*written_end));
	was_full = calloc(nr_zones, sizeof(*was_full));
	seq_idx = calloc(nr_zones, sizeof(*seq_idx));
	cnv_idx = calloc(nr_zones, sizeof(*cnv_idx));
	if (!seq_idx || !cnv_idx || !written_end || !was_full)
		die("out of memory");
	for (i = 0; i < a->nr_zones; i++) {
		written_end[i] = a->zones[i].wp;
		was_full[i] = a->zones[i].cond == ZBD_ZONE_COND_FULL;
		if (a->zones[i].type == ZBD_ZONE_TYPE_CNV)
			cnv_idx[nr_cnv++] = i;
		else
			seq_idx[nr_seq++] = i;
	}
	if (nr_seq < 2)
		die("at least two sequential zones are needed");
	if (zone_size < 64 * blk)
		die("zones of %llu bytes are too small", (unsigned long long)zone_size);
}

static int mode_report(const char *path)
{
	struct dev d;
	unsigned int i;

	open_dev(&d, path);
	if (report(&d) < 0)
		die("zone report of %s failed", path);
	for (i = 0; i < d.nr_zones; i++) {
		const struct zbd_zone *z = &d.zones[i];

		printf("zone %u start %llu len %llu cap %llu wp %llu type %s cond %s\n",
		       i, z->start, z->len, z->capacity,
		       z->type == ZBD_ZONE_TYPE_CNV ? 0ULL : z->wp - z->start,
		       type_name(z->type), cond_name(z->cond));
	}
	return 0;
}

static int mode_geometry(const char *path)
{
	struct dev d;
	unsigned int i, conv = 0;
	unsigned long long cap = 0;

	open_dev(&d, path);
	if (report(&d) < 0)
		die("zone report of %s failed", path);
	for (i = 0; i < d.nr_zones; i++) {
		if (d.zones[i].type == ZBD_ZONE_TYPE_CNV)
			conv++;
		else if (!cap)
			cap = d.zones[i].capacity;
	}
	printf("ZQ_SIZE=%llu\n", d.info.nr_sectors << 9);
	printf("ZQ_ZONE_SIZE=%llu\n", d.info.zone_size);
	printf("ZQ_ZONE_CAPACITY=%llu\n", cap);
	printf("ZQ_NR_ZONES=%u\n", d.info.nr_zones);
	printf("ZQ_CONVENTIONAL_ZONES=%u\n", conv);
	printf("ZQ_MAX_OPEN=%u\n", d.info.max_nr_open_zones);
	printf("ZQ_MAX_ACTIVE=%u\n", d.info.max_nr_active_zones);
	printf("ZQ_LBLOCK=%u\n", d.info.lblock_size);
	printf("ZQ_MODEL=%s\n", zbd_device_model_str(d.info.model, true));
	return 0;
}

/* The word at byte offset @ofs of the persistence pattern. */
static uint64_t io_word(uint64_t ofs)
{
	return (ofs * 0x9e3779b97f4a7c15ULL) ^ 0x7a71636f77320000ULL ^ ofs;
}

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	case 's': v <<= 9; end++; break;	/* 512-byte sectors */
	}
	if (*end || end == s)
		die("bad size '%s'", s);
	return v;
}

/*
 * zbdconf --io write|verify|zeros|unwritten DEV OFS LEN, --io flush DEV.
 * "unwritten" accepts a uniform fill of 0x00 or 0xff and prints it.
 * Exit status 0 on success, 1 on an I/O error or a mismatch.
 */
static int mode_io(int argc, char **argv)
{
	const char *what, *path;
	unsigned char *buf;
	uint64_t ofs = 0, len = 0, done = 0, i;
	int fd, fill = -1;

	if (argc < 2)
		die("usage: zbdconf --io write|verify|zeros|unwritten DEV OFS LEN | --io flush DEV");
	what = argv[0];
	path = argv[1];
	if (strcmp(what, "flush") != 0) {
		if (argc != 4)
			die("--io %s needs DEV OFS LEN", what);
		ofs = parse_size(argv[2]);
		len = parse_size(argv[3]);
		if (ofs % 512 || len % 512)
			die("offset and length must be multiples of 512");
	}
	fd = open(path, O_RDWR | O_DIRECT | O_LARGEFILE);
	if (fd < 0)
		die("cannot open %s (%s)", path, strerror(errno));
	if (strcmp(what, "flush") == 0) {
		if (fsync(fd) < 0) {
			printf("zbdconf: flush of %s failed: %s\n", path,
			       strerror(errno));
			return 1;
		}
		return 0;
	}
	if (posix_memalign((void **)&buf, 4096, BUF_SIZE))
		die("out of memory");
	while (done < len) {
		uint64_t n = len - done > BUF_SIZE ? BUF_SIZE : len - done;
		uint64_t at = ofs + done;
		uint64_t *w = (uint64_t *)buf;
		ssize_t r;

		if (strcmp(what, "write") == 0) {
			for (i = 0; i < n / 8; i++)
				w[i] = io_word(at + i * 8);
			r = pwrite(fd, buf, n, at);
		} else if (strcmp(what, "verify") == 0 || strcmp(what, "zeros") == 0 ||
			   strcmp(what, "unwritten") == 0) {
			r = pread(fd, buf, n, at);
		} else {
			die("unknown --io operation '%s'", what);
		}
		if (r != (ssize_t)n) {
			printf("zbdconf: %s of %s at %llu len %llu: %s\n", what,
			       path, (unsigned long long)at,
			       (unsigned long long)n,
			       r < 0 ? strerror(errno) : "short transfer");
			return 1;
		}
		if (strcmp(what, "unwritten") == 0) {
			/* One fill byte, 0x00 or 0xff, all along. */
			for (i = 0; i < n; i++) {
				if (fill < 0 && (buf[i] == 0 || buf[i] == 0xff))
					fill = buf[i];
				if (buf[i] != fill) {
					printf("zbdconf: unwritten data of %s at offset %llu "
					       "is %#x, not a fill byte\n", path,
					       (unsigned long long)(at + i), buf[i]);
					return 1;
				}
			}
		} else if (strcmp(what, "write") != 0) {
			int zeros = what[0] == 'z';

			for (i = 0; i < n / 8; i++) {
				uint64_t want = zeros ? 0 : io_word(at + i * 8);

				if (w[i] != want) {
					printf("zbdconf: %s of %s: mismatch at offset %llu: "
					       "%#llx, expected %#llx\n", what, path,
					       (unsigned long long)(at + i * 8),
					       (unsigned long long)w[i],
					       (unsigned long long)want);
					return 1;
				}
			}
		}
		done += n;
	}
	if (fill >= 0)
		printf("zbdconf: unwritten data of %s reads as 0x%02x\n", path, fill);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: zbdconf [options] DEV_A DEV_B   compare two zoned block devices\n"
"       zbdconf --report DEV            print the zones (wp relative to start)\n"
"       zbdconf --geometry DEV          print the geometry as shell variables\n"
"       zbdconf --io write|verify|zeros|unwritten DEV OFS LEN\n"
"                                       write or check an offset pattern,\n"
"                                       zeros, or a uniform 0x00/0xff fill\n"
"       zbdconf --io flush DEV          fsync (a cache flush) the device\n"
"options:\n"
"  -s, --seed N        seed of the random sequences (default 1)\n"
"  -n, --sequences N   number of random sequences (default 200)\n"
"  -o, --ops N         operations per random sequence (default 40)\n"
"  -t, --time-limit S  start no new random sequence after S seconds\n"
"  -m, --max-diffs N   stop after N differences (default 10)\n"
"  -E, --no-edge       skip the hand-written edge cases\n"
"  -R, --no-random     skip the random sequences\n"
"  -w, --strict-wp     also compare the WP of full and conventional zones\n"
"  --strict-fill       unwritten blocks must read the same on A and B\n"
"                      (default: 0x00 or 0xff on each, reported)\n"
"  --expect-fill-a N   unwritten blocks of A must read as byte N\n"
"  -v, --verbose       print every operation\n"
"  --skip-b-op N       do not send operation N to B (checks that the\n"
"                      comparison catches a divergence)\n"
"Exit status: 0 identical, 1 differences found, 2 usage or setup error.\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "sequences", required_argument, NULL, 'n' },
		{ "ops", required_argument, NULL, 'o' },
		{ "time-limit", required_argument, NULL, 't' },
		{ "max-diffs", required_argument, NULL, 'm' },
		{ "no-edge", no_argument, NULL, 'E' },
		{ "no-random", no_argument, NULL, 'R' },
		{ "strict-wp", no_argument, NULL, 'w' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "skip-b-op", required_argument, NULL, 'K' },
		{ "strict-fill", no_argument, NULL, 'F' },
		{ "expect-fill-a", required_argument, NULL, 'A' },
		{ "report", required_argument, NULL, 'r' },
		{ "geometry", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const fill_names[] = {
		"nothing", "0x00", "0xff", "0x00 and 0xff",
	};
	struct timespec t0, t1;
	unsigned int i;
	int c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	zbd_set_log_level(ZBD_LOG_NONE);
	if (argc > 1 && strcmp(argv[1], "--io") == 0)
		return mode_io(argc - 2, argv + 2);
	while ((c = getopt_long(argc, argv, "s:n:o:t:m:ERwvh", longopts, NULL)) != -1) {
		switch (c) {
		case 's': opt_seed = strtoull(optarg, NULL, 0); break;
		case 'n': opt_sequences = strtoul(optarg, NULL, 0); break;
		case 'o': opt_ops = strtoul(optarg, NULL, 0); break;
		case 't': opt_time_limit = strtoul(optarg, NULL, 0); break;
		case 'm': opt_max_diffs = strtoul(optarg, NULL, 0); break;
		case 'E': opt_edge = 0; break;
		case 'R': opt_random = 0; break;
		case 'w': opt_strict_wp = 1; break;
		case 'v': opt_verbose = 1; break;
		case 'K': opt_skip_b_op = strtoul(optarg, NULL, 0); break;
		case 'F': opt_strict_fill = 1; break;
		case 'A': opt_expect_fill_a = strtoul(optarg, NULL, 0) & 0xff; break;
		case 'r': return mode_report(optarg);
		case 'g': return mode_geometry(optarg);
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return 2;
	}
	if (opt_max_diffs == 0)
		opt_max_diffs = 1;
	for (i = 0; i < 2; i++)
		open_dev(&devs[i], argv[optind + i]);
	check_geometry();
	setup_geometry();
	if (posix_memalign((void **)&wbuf, 4096, BUF_SIZE) ||
	    posix_memalign((void **)&rbuf[0], 4096, BUF_SIZE) ||
	    posix_memalign((void **)&rbuf[1], 4096, BUF_SIZE))
		die("out of memory");
	printf("zbdconf: A=%s B=%s: %u zones of %llu bytes (%u conventional), "
	       "capacity %llu, block %llu, max open %u, max active %u\n",
	       devs[0].path, devs[1].path, nr_zones,
	       (unsigned long long)zone_size, nr_cnv,
	       (unsigned long long)zcap(S(0)), (unsigned long long)blk,
	       max_open, max_active);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rng_state = opt_seed;
	if (opt_edge)
		run_edge_cases();
	if (opt_random) {
		for (i = 0; i < opt_sequences && st_diffs < opt_max_diffs; i++) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			if (opt_time_limit && t1.tv_sec - t0.tv_sec >= (time_t)opt_time_limit) {
				printf("zbdconf: time limit reached after %u sequences\n", i);
				break;
			}
			random_sequence(i);
			st_sequences++;
		}
	}
	/* Leave both devices clean. */
	seq_failed = 0;
	snprintf(seq_name, sizeof(seq_name), "final reset");
	apply(OP_RESET_ALL, 0, 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	printf("zbdconf: %lu edge cases, %lu random sequences, %lu operations "
	       "(%lu errors: %lu EIO, %lu open-resource, "
	       "%lu active-resource), %lu differences, %lds\n",
	       st_cases, st_sequences, st_ops, st_errors, st_by_errno[0],
	       st_by_errno[1], st_by_errno[2], st_diffs,
	       (long)(t1.tv_sec - t0.tv_sec));
	if (fill_seen[0] || fill_seen[1])
		printf("zbdconf: unwritten blocks read as %s on A, %s on B\n",
		       fill_names[fill_seen[0]], fill_names[fill_seen[1]]);
	printf("ZBDCONF %s\n", st_diffs ? "FAIL" : "PASS");
	for (i = 0; i < 2; i++)
		zbd_close(devs[i].fd);
	return st_diffs ? 1 : 0;
}
