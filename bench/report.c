/* SPDX-License-Identifier: MIT */
#include "report.h"

#include <string.h>
#include <unistd.h>

void machine_describe(struct bench_machine *m, bool quick, unsigned reps)
{
	char line[512];
	FILE *f = fopen("/proc/cpuinfo", "r");
	snprintf(m->cpu, sizeof(m->cpu), "unknown");
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		if (strncmp(line, "model name", 10) || !colon)
			continue;
		colon += 1 + (colon[1] == ' ');
		colon[strcspn(colon, "\n")] = 0;
		snprintf(m->cpu, sizeof(m->cpu), "%s", colon);
		break;
	}
	if (f)
		fclose(f);
	m->nproc = sysconf(_SC_NPROCESSORS_ONLN);
#ifdef __clang__
	m->compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
	m->compiler = "gcc " __VERSION__;
#else
	m->compiler = "unknown";
#endif
	m->mode = quick ? "quick" : "full";
	m->reps = reps;
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

static bool measured(const struct bench_result *r)
{
	return r && !r->c->pending && !r->error;
}

struct bench_verdict target_judge(const struct bench_result *r, const struct bench_target *t)
{
	struct bench_verdict v = { false, false, 0 };
	if (!measured(r))
		return v;
	switch (t->kind) {
	case T_LIMIT:
		if (r->limit.median <= 0)
			return v;
		v.measured = ratio(r->ns.median, r->limit.median);
		v.met = v.measured <= t->bound;
		break;
	case T_HW:
		if (!r->has_hw || r->hw_error)
			return v;
		v.measured = ratio(r->ns.median, r->hw.median);
		v.met = v.measured <= t->bound;
		break;
	case T_NS:
		v.measured = r->ns.median;
		v.met = v.measured <= t->bound;
		break;
	case T_SPEEDUP:
		if (!r->has_ref)
			return v;
		v.measured = ratio(r->ref.median, r->ns.median);
		v.met = v.measured >= t->bound;
		break;
	default:
		return v;
	}
	v.applies = true;
	return v;
}

void target_describe(char *buf, size_t len, const struct bench_result *r,
		     const struct bench_target *t)
{
	switch (t->kind) {
	case T_LIMIT:
		snprintf(buf, len, "ratio to %s <= %g", limit_name(r->c->limit), t->bound);
		break;
	case T_HW:
		snprintf(buf, len, "ratio to hand-written <= %g", t->bound);
		break;
	case T_NS:
		snprintf(buf, len, "ns/entry <= %g", t->bound);
		break;
	case T_SPEEDUP:
		snprintf(buf, len, "speedup over %s >= %g", t->ref ? t->ref : "reference", t->bound);
		break;
	default:
		snprintf(buf, len, "-");
		break;
	}
}

/* ---- the table ---- */

static const char *size_str(char *buf, size_t len, uint64_t bytes)
{
	if (bytes >= (1u << 20) && !(bytes % (1u << 20)))
		snprintf(buf, len, "%llu MiB", (unsigned long long)(bytes >> 20));
	else if (bytes >= 1024 && !(bytes % 1024))
		snprintf(buf, len, "%llu KiB", (unsigned long long)(bytes >> 10));
	else
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	return buf;
}

void report_table(FILE *out, const struct bench_machine *m, const struct bench_result *all,
		  unsigned n)
{
	char buf[96], sz[32];
	fprintf(out,
		"vpte-bench (%s run): %s, %ld CPUs, %s; ns per entry, median of %u (min..max); "
		"a clock read, %.1f ns, subtracted from each timed interval\n\n",
		m->mode, m->cpu, m->nproc, m->compiler, m->reps, bench_clock_cost_ns);
	fprintf(out, "%-12s %-21s %8s  %-24s %-20s %7s  %-8s %7s\n", "format", "op", "entries",
		"ns/entry (min..max)", "limit ns/entry", "x limit", "hand ns", "x hand");
	for (unsigned i = 0; i < n; i++) {
		const struct bench_result *r = &all[i];
		fprintf(out, "%-12s %-21s ", r->format, r->c->op);
		if (r->c->pending) {
			fprintf(out, "%8s  %s\n", "-", r->c->pending);
			continue;
		}
		if (r->error) {
			fprintf(out, "%8llu  failed: %s\n", (unsigned long long)r->entries,
				vpte_strerror(r->error));
			continue;
		}
		snprintf(buf, sizeof(buf), "%.3f (%.3f..%.3f)", r->ns.median, r->ns.min, r->ns.max);
		fprintf(out, "%8llu  %-24s ", (unsigned long long)r->entries, buf);
		if (r->limit.median > 0) {
			snprintf(buf, sizeof(buf), "%.3f %s %s", r->limit.median, limit_name(r->c->limit),
				 size_str(sz, sizeof(sz), r->limit_bytes));
			fprintf(out, "%-20s %7.2f  ", buf, ratio(r->ns.median, r->limit.median));
		} else {
			fprintf(out, "%-20s %7s  ", "-", "-");
		}
		if (r->has_hw && !r->hw_error)
			fprintf(out, "%-8.3f %7.2f", r->hw.median, ratio(r->ns.median, r->hw.median));
		else if (r->has_hw)
			fprintf(out, "failed: %s", vpte_strerror(r->hw_error));
		fprintf(out, "\n");
	}

	fprintf(out, "\ntargets (measured, not asserted):\n");
	for (unsigned i = 0; i < n; i++) {
		const struct bench_result *r = &all[i];
		for (unsigned k = 0; k < BENCH_TARGETS; k++) {
			const struct bench_target *t = &r->c->targets[k];
			if (t->kind == T_NONE)
				continue;
			if (t->kind == T_HW && !r->has_hw && !r->c->pending)
				continue; /* the hand-written walker is x86_64 only */
			struct bench_verdict v = target_judge(r, t);
			target_describe(buf, sizeof(buf), r, t);
			fprintf(out, "  %-12s %-21s %-40s ", r->format, r->c->op, buf);
			if (r->c->pending)
				fprintf(out, "not yet available\n");
			else if (!v.applies)
				fprintf(out, "not measured\n");
			else if (t->kind == T_SPEEDUP)
				fprintf(out, "%8.3f  %s (%s %.3f ns/entry; two threads got %.2f "
					     "in memset of the same bytes, %.2f in a compute loop)\n",
					v.measured, v.met ? "met" : "MISSED", r->c->ref_what,
					r->ref.median, r->parallel_memset, r->parallel);
			else
				fprintf(out, "%8.3f  %s\n", v.measured, v.met ? "met" : "MISSED");
		}
	}
}

/* ---- JSON ---- */

static void json_summary(FILE *out, const char *prefix, const struct bench_summary *s)
{
	fprintf(out, "\"%smedian\": %.6g, \"%smin\": %.6g, \"%smax\": %.6g", prefix, s->median,
		prefix, s->min, prefix, s->max);
}

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

void report_json(FILE *out, const struct bench_machine *m, const struct bench_result *all,
		 unsigned n)
{
	char buf[96];
	fprintf(out, "{\n  \"machine\": {\"cpu\": ");
	json_string(out, m->cpu);
	fprintf(out, ", \"nproc\": %ld, \"compiler\": ", m->nproc);
	json_string(out, m->compiler);
	fprintf(out, ", \"mode\": \"%s\", \"repetitions\": %u, \"clock_read_ns\": %.1f},\n  \"cases\": [",
		m->mode, m->reps, bench_clock_cost_ns);
	for (unsigned i = 0; i < n; i++) {
		const struct bench_result *r = &all[i];
		fprintf(out, "%s\n    {\"op\": \"%s\", \"format\": \"%s\", ", i ? "," : "", r->c->op,
			r->format);
		if (r->c->pending) {
			fprintf(out, "\"status\": \"not yet available\", \"note\": ");
			json_string(out, r->c->pending);
			fprintf(out, "}");
			continue;
		}
		fprintf(out, "\"entries\": %llu, ", (unsigned long long)r->entries);
		if (r->error) {
			fprintf(out, "\"status\": \"failed\", \"error\": ");
			json_string(out, vpte_strerror(r->error));
			fprintf(out, "}");
			continue;
		}
		fprintf(out, "\"status\": \"ok\", \"calls_per_repetition\": %u, \"ns_per_entry\": %.6g, ",
			case_calls_per_rep(r->c), r->ns.median);
		json_summary(out, "", &r->ns);
		if (r->limit.median > 0) {
			fprintf(out, ", \"limit\": \"%s\", \"limit_bytes\": %llu, \"limit_ns_per_entry\": %.6g, "
				     "\"ratio_to_limit\": %.6g",
				limit_name(r->c->limit), (unsigned long long)r->limit_bytes,
				r->limit.median, ratio(r->ns.median, r->limit.median));
		} else {
			fprintf(out, ", \"limit\": null, \"ratio_to_limit\": null");
		}
		if (r->has_hw && !r->hw_error) {
			fprintf(out, ", \"handwritten_ns_per_entry\": %.6g, ", r->hw.median);
			json_summary(out, "handwritten_", &r->hw);
			fprintf(out, ", \"ratio_to_handwritten\": %.6g", ratio(r->ns.median, r->hw.median));
		} else {
			fprintf(out, ", \"ratio_to_handwritten\": null");
		}
		if (r->has_ref) {
			fprintf(out, ", \"reference\": ");
			json_string(out, r->c->ref_what);
			fprintf(out, ", \"reference_ns_per_entry\": %.6g, ", r->ref.median);
			json_summary(out, "reference_", &r->ref);
			fprintf(out, ", \"speedup\": %.6g", ratio(r->ref.median, r->ns.median));
		}
		if (r->parallel > 0)
			fprintf(out, ", \"machine_parallel_speedup\": %.6g"
				     ", \"memset_parallel_speedup\": %.6g",
				r->parallel, r->parallel_memset);
		fprintf(out, "}");
	}
	fprintf(out, "\n  ],\n  \"targets\": [");
	bool first = true;
	for (unsigned i = 0; i < n; i++) {
		const struct bench_result *r = &all[i];
		for (unsigned k = 0; k < BENCH_TARGETS; k++) {
			const struct bench_target *t = &r->c->targets[k];
			if (t->kind == T_NONE || (t->kind == T_HW && !r->has_hw && !r->c->pending))
				continue;
			struct bench_verdict v = target_judge(r, t);
			target_describe(buf, sizeof(buf), r, t);
			fprintf(out, "%s\n    {\"op\": \"%s\", \"format\": \"%s\", \"target\": ",
				first ? "" : ",", r->c->op, r->format);
			json_string(out, buf);
			if (r->c->pending)
				fprintf(out, ", \"status\": \"not yet available\"}");
			else if (!v.applies)
				fprintf(out, ", \"status\": \"not measured\"}");
			else
				fprintf(out, ", \"measured\": %.6g, \"met\": %s}", v.measured,
					v.met ? "true" : "false");
			first = false;
		}
	}
	fprintf(out, "\n  ]\n}\n");
}
