/* Line scans of the block scanner, in one pass each over a block's bytes.
 *
 * Each function computes exactly what its pure-Python twin in banscan/fast/lines.py computes (the
 * tests compare the two on generated blocks); the module is optional: without a C compiler the
 * package falls back to the Python functions.
 *
 *   newlines(b, start, end)  -> b.count(b"\n", start, end), b any bytes-like object
 *   long_lines(block, size)  -> start offsets of the lines at least `size` bytes long
 *   osquery_events(block, skip=None, memo=None) -> {query name: (rows, {host identifier, ...})} or None
 *                                            (memo: from span_memo(), kept between calls so that
 *                                            each query name and host is made once)
 *   tsv_column(block, index, skip=None)   -> (rows, set of the column's values) or None (a blank,
 *                                            header or short line)
 *   dns_clients(block, skip=None)         -> (lines, set of client addresses, [start offsets of the
 *                                            lines left to the reader]) of DNS query log lines (BIND,
 *                                            dnsmasq), or None (a line with a control byte or one
 *                                            beyond ASCII)
 *   occurrences(b, lit)                   -> b.count(lit) (lit: two bytes or more)
 *   zeek_json(block, skip=None, col=None) -> (lines, set of the values of key `col` (b"" where it is not
 *                                            there), [start offsets of the lines left to the reader])
 *                                            of compact flat JSON objects (Zeek JSON logs)
 * `skip`: a sorted list of the start offsets of lines left out (the candidate lines).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

static const char *line_end(const char *p, const char *end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? nl : end;
}

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* the bytes `ch` of [p, p + n): 16 bytes a step where SSE2 is there (each compare gives -1 for a
   match: subtracted into bytes at most 255 times, then summed into two 64-bit lanes) */
static Py_ssize_t count_byte(const char *p, Py_ssize_t n, char ch) {
    Py_ssize_t c = 0;
#if defined(__SSE2__)
    const __m128i nl = _mm_set1_epi8(ch), zero = _mm_setzero_si128();
    while (n >= 16) {
        Py_ssize_t steps = n / 16 < 255 ? n / 16 : 255;
        __m128i acc = zero;
        for (Py_ssize_t i = 0; i < steps; i++, p += 16)
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)p), nl));
        __m128i sums = _mm_sad_epu8(acc, zero);
        c += (Py_ssize_t)_mm_cvtsi128_si32(sums) + (Py_ssize_t)_mm_cvtsi128_si32(_mm_srli_si128(sums, 8));
        n -= steps * 16;
    }
#endif
    const char *end = p + n;
    while ((p = memchr(p, ch, (size_t)(end - p))) != NULL) {
        c++;
        p++;
    }
    return c;
}

static Py_ssize_t count_newlines(const char *p, Py_ssize_t n) { return count_byte(p, n, '\n'); }

static PyObject *newlines(PyObject *self, PyObject *args) {
    Py_buffer buf;
    Py_ssize_t start = 0, stop = PY_SSIZE_T_MAX;
    if (!PyArg_ParseTuple(args, "y*|nn", &buf, &start, &stop))
        return NULL;
    /* as bytes.count's start and end: clipped to the buffer, negative from its end */
    Py_ssize_t len = buf.len;
    if (start < 0)
        start = start + len < 0 ? 0 : start + len;
    if (stop < 0)
        stop = stop + len < 0 ? 0 : stop + len;
    if (stop > len)
        stop = len;
    Py_ssize_t c = 0;
    if (start < stop) {
        c = count_newlines((const char *)buf.buf + start, stop - start);
    }
    PyBuffer_Release(&buf);
    return PyLong_FromSsize_t(c);
}

static PyObject *long_lines(PyObject *self, PyObject *args) {
    Py_buffer buf;
    Py_ssize_t size;
    if (!PyArg_ParseTuple(args, "y*n", &buf, &size))
        return NULL;
    PyObject *out = PyList_New(0);
    if (out == NULL) {
        PyBuffer_Release(&buf);
        return NULL;
    }
    const char *start = buf.buf, *end = start + buf.len, *p = start;
    if (buf.len >= size) {
        /* the block splits into lines at every newline, the last one possibly empty */
        for (;;) {
            const char *e = line_end(p, end);
            if (e - p >= size) {
                PyObject *v = PyLong_FromSsize_t(p - start);
                if (v == NULL || PyList_Append(out, v) < 0) {
                    Py_XDECREF(v);
                    Py_DECREF(out);
                    PyBuffer_Release(&buf);
                    return NULL;
                }
                Py_DECREF(v);
            }
            if (e == end)
                break;
            p = e + 1;
        }
    }
    PyBuffer_Release(&buf);
    return out;
}

static int starts_with(const char *p, const char *end, const char *lit, size_t n) {
    return (size_t)(end - p) >= n && memcmp(p, lit, n) == 0;
}

/* the first of '"', '\\' or '\n' at or after p (end when none) */
static const char *field_end(const char *p, const char *end) {
    while (p < end && *p != '"' && *p != '\\' && *p != '\n')
        p++;
    return p;
}

/* occurrences of lit (whose last byte occurs in no other place of it, so that occurrences cannot
   overlap) in [p, end): found by their last byte, rare in a line where the first ('"') is not */
static Py_ssize_t count_in(const char *p, const char *end, const char *lit, size_t n) {
    Py_ssize_t c = 0;
    const char last = lit[n - 1];
    const char *q = p + n - 1;
    while (q < end) {
        q = memchr(q, last, (size_t)(end - q));
        if (q == NULL)
            break;
        if (memcmp(q - (n - 1), lit, n - 1) == 0)
            c++;
        q++;
    }
    return c;
}

/* The lines of a block but those starting at the offsets of `skip` (a sorted list of line starts,
   or None): the candidate lines, read by the format's reader instead. */
typedef struct {
    PyObject *list;
    Py_ssize_t i, n, next;
} Skip;

static int skip_init(Skip *k, PyObject *list) {
    k->list = (list == Py_None) ? NULL : list;
    if (k->list != NULL && !PyList_Check(k->list)) {
        PyErr_SetString(PyExc_TypeError, "skip: a list of line start offsets, or None");
        return -1;
    }
    k->i = 0;
    k->n = k->list ? PyList_GET_SIZE(k->list) : 0;
    k->next = -1;
    if (k->n) {
        k->next = PyLong_AsSsize_t(PyList_GET_ITEM(k->list, 0));
        if (k->next == -1 && PyErr_Occurred())
            return -1;
    }
    return 0;
}

/* 1 when the line starting at `off` is skipped (and moves to the next offset), 0 if not, -1 on error */
static int skipped(Skip *k, Py_ssize_t off) {
    while (k->i < k->n && k->next < off) {
        if (++k->i < k->n) {
            k->next = PyLong_AsSsize_t(PyList_GET_ITEM(k->list, k->i));
            if (k->next == -1 && PyErr_Occurred())
                return -1;
        }
    }
    if (k->i < k->n && k->next == off)
        return 1;
    return 0;
}

/* The next line of [*p, end) that `k` does not skip: 1 with the line in [*line, *eol) and *p
   moved past it, 0 at the end, -1 on error. */
static int next_line(Skip *k, const char *start, const char **p, const char *end, const char **line,
                     const char **eol) {
    while (*p < end) {
        const char *e = line_end(*p, end);
        int sk = skipped(k, *p - start);
        if (sk < 0)
            return -1;
        const char *l = *p;
        *p = (e == end) ? end : e + 1;
        if (!sk) {
            *line = l;
            *eol = e;
            return 1;
        }
    }
    return 0;
}

/* The distinct spans of a block (pointers into it) and how often each occurs, in the order first
   seen: an open-addressing table of indices into a dense array, so that a line costs a hash and a
   compare, and Python objects are made once per distinct span, not once per line. */
typedef struct {
    const char *p;
    Py_ssize_t n, count;
    uint64_t h;
} Span;

typedef struct {
    Span *ents;
    Py_ssize_t used, cap; /* cap: entries; the index table has 2 * cap slots (a power of two) */
    Py_ssize_t *slots;    /* -1: empty */
} Spans;

static uint64_t span_hash(const char *p, Py_ssize_t n) {
    /* eight bytes a step (a multiply and a rotation each), then the tail a byte at a time */
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)n;
    Py_ssize_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 29;
    }
    for (; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
    return h ^ (h >> 32);
}

static int spans_init(Spans *t) {
    t->used = 0;
    t->cap = 64;
    t->ents = PyMem_Malloc(sizeof(Span) * (size_t)t->cap);
    t->slots = PyMem_Malloc(sizeof(Py_ssize_t) * 2 * (size_t)t->cap);
    if (t->ents == NULL || t->slots == NULL) {
        PyMem_Free(t->ents);
        PyMem_Free(t->slots);
        PyErr_NoMemory();
        return -1;
    }
    memset(t->slots, 0xff, sizeof(Py_ssize_t) * 2 * (size_t)t->cap);
    return 0;
}

static void spans_free(Spans *t) {
    PyMem_Free(t->ents);
    PyMem_Free(t->slots);
}

static void spans_place(Spans *t, Py_ssize_t i) {
    size_t mask = (size_t)(2 * t->cap - 1), j = (size_t)t->ents[i].h & mask;
    while (t->slots[j] >= 0)
        j = (j + 1) & mask;
    t->slots[j] = i;
}

/* the index of [p, p + n) (hash h) in `t`, added with count 0 when new (*added set): or -1 (memory
   error set) */
static Py_ssize_t spans_index(Spans *t, const char *p, Py_ssize_t n, uint64_t h, int *added) {
    size_t mask = (size_t)(2 * t->cap - 1), j = (size_t)h & mask;
    *added = 0;
    while (t->slots[j] >= 0) {
        Span *e = &t->ents[t->slots[j]];
        if (e->h == h && e->n == n && memcmp(e->p, p, (size_t)n) == 0)
            return t->slots[j];
        j = (j + 1) & mask;
    }
    if (t->used == t->cap) { /* grow (the slots stay at most half full) and place every entry again */
        Py_ssize_t cap = t->cap * 2;
        Span *ents = PyMem_Realloc(t->ents, sizeof(Span) * (size_t)cap);
        if (ents == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        t->ents = ents;
        Py_ssize_t *slots = PyMem_Malloc(sizeof(Py_ssize_t) * 2 * (size_t)cap);
        if (slots == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        PyMem_Free(t->slots);
        t->slots = slots;
        t->cap = cap;
        memset(t->slots, 0xff, sizeof(Py_ssize_t) * 2 * (size_t)cap);
        for (Py_ssize_t i = 0; i < t->used; i++)
            spans_place(t, i);
        mask = (size_t)(2 * t->cap - 1);
        j = (size_t)h & mask;
        while (t->slots[j] >= 0)
            j = (j + 1) & mask;
    }
    Span *e = &t->ents[t->used];
    e->p = p;
    e->n = n;
    e->count = 0;
    e->h = h;
    *added = 1;
    t->slots[j] = t->used;
    return t->used++;
}

/* count one occurrence of [p, p + n): 0, or -1 (memory error set) */
static int spans_add(Spans *t, const char *p, Py_ssize_t n) {
    int added;
    Py_ssize_t i = spans_index(t, p, n, span_hash(p, n), &added);
    if (i < 0)
        return -1;
    t->ents[i].count++;
    return 0;
}

/* What the spans of earlier blocks stood for, kept between calls (a capsule): for each span
   Q","hostIdentifier":"H its own copy of the bytes, the query name Q (bytes, one object per
   name) and the host H (str), so that a host seen in every block is decoded once.  Emptied when
   it holds MEMO_MAX spans (memory stays bounded; emptying only costs decoding again). */
#define MEMO_NAME "banscan.fast._lines.span_memo"
#define MEMO_MAX 65536

typedef struct {
    Spans tab;           /* its entries' p: copies owned by the memo */
    PyObject **queries;  /* per entry: Q (a new reference) */
    PyObject **hosts;    /* per entry: H (a new reference) */
    Py_ssize_t room;     /* entries queries and hosts have room for */
    PyObject *names;     /* {Q: Q}: one object per query name */
} Memo;

static void memo_empty(Memo *m) {
    for (Py_ssize_t i = 0; i < m->tab.used; i++) {
        PyMem_Free((void *)m->tab.ents[i].p);
        Py_DECREF(m->queries[i]);
        Py_DECREF(m->hosts[i]);
    }
    m->tab.used = 0;
    memset(m->tab.slots, 0xff, sizeof(Py_ssize_t) * 2 * (size_t)m->tab.cap);
    PyDict_Clear(m->names);
}

static void memo_destroy(PyObject *capsule) {
    Memo *m = PyCapsule_GetPointer(capsule, MEMO_NAME);
    if (m == NULL)
        return;
    memo_empty(m);
    spans_free(&m->tab);
    PyMem_Free(m->queries);
    PyMem_Free(m->hosts);
    Py_DECREF(m->names);
    PyMem_Free(m);
}

static PyObject *span_memo(PyObject *self, PyObject *args) {
    Memo *m = PyMem_Calloc(1, sizeof(Memo));
    if (m == NULL)
        return PyErr_NoMemory();
    if (spans_init(&m->tab) < 0) {
        PyMem_Free(m);
        return NULL;
    }
    m->names = PyDict_New();
    if (m->names == NULL) {
        spans_free(&m->tab);
        PyMem_Free(m);
        return NULL;
    }
    PyObject *cap = PyCapsule_New(m, MEMO_NAME, memo_destroy);
    if (cap == NULL) {
        Py_DECREF(m->names);
        spans_free(&m->tab);
        PyMem_Free(m);
    }
    return cap;
}

/* the index in `m` of the block's span `e` (Q","hostIdentifier":"H, Q holding no quote), its
   query name and host made when new; or -1 (error set, and the memo emptied) */
static Py_ssize_t memo_index(Memo *m, const Span *e, size_t nho) {
    if (m->tab.used >= MEMO_MAX)
        memo_empty(m);
    int added;
    Py_ssize_t i = spans_index(&m->tab, e->p, e->n, e->h, &added);
    if (i < 0 || !added)
        return i;
    /* new (the last entry): own a copy of the bytes (the block goes), and make Q and H */
    char *copy = NULL;
    PyObject *q = NULL, *shared = NULL, *host = NULL;
    if (m->room < m->tab.cap) {
        PyObject **qs = PyMem_Realloc(m->queries, sizeof(PyObject *) * (size_t)m->tab.cap);
        if (qs == NULL)
            goto nomem;
        m->queries = qs;
        PyObject **hs = PyMem_Realloc(m->hosts, sizeof(PyObject *) * (size_t)m->tab.cap);
        if (hs == NULL)
            goto nomem;
        m->hosts = hs;
        m->room = m->tab.cap;
    }
    copy = PyMem_Malloc((size_t)e->n + 1);
    if (copy == NULL)
        goto nomem;
    memcpy(copy, e->p, (size_t)e->n);
    const char *sep = e->p;
    while (*sep != '"')
        sep++; /* Q ends at the first quote: the separator's */
    const char *hp = sep + nho;
    q = PyBytes_FromStringAndSize(e->p, sep - e->p);
    shared = q ? PyDict_SetDefault(m->names, q, q) : NULL;
    Py_XINCREF(shared);
    Py_XDECREF(q);
    host = shared ? PyUnicode_DecodeUTF8(hp, e->n - (hp - e->p), "replace") : NULL;
    if (host == NULL)
        goto fail;
    m->tab.ents[i].p = copy;
    m->queries[i] = shared;
    m->hosts[i] = host;
    return i;
nomem:
    PyErr_NoMemory();
fail:
    /* the incomplete entry is left out, and the table emptied (its slots name it) */
    PyMem_Free(copy);
    Py_XDECREF(shared);
    m->tab.used--;
    memo_empty(m);
    return -1;
}

static const char HEAD[] = "{\"name\":\"";
static const char HOST[] = "\",\"hostIdentifier\":\"";
static const char COLS[] = "\"columns\":{";
static const char ADDED[] = "\"action\":\"added\"}";

static PyObject *osquery_events(PyObject *self, PyObject *args) {
    Py_buffer buf;
    PyObject *skiplist = Py_None, *capsule = Py_None;
    Skip sk_;
    if (!PyArg_ParseTuple(args, "y*|OO", &buf, &skiplist, &capsule))
        return NULL;
    if (skip_init(&sk_, skiplist) < 0) {
        PyBuffer_Release(&buf);
        return NULL;
    }
    /* the caller's memo, or one for this call */
    if (capsule == Py_None) {
        capsule = span_memo(NULL, NULL);
        if (capsule == NULL) {
            PyBuffer_Release(&buf);
            return NULL;
        }
    } else {
        Py_INCREF(capsule);
    }
    Memo *memo = PyCapsule_GetPointer(capsule, MEMO_NAME);
    if (memo == NULL) {
        Py_DECREF(capsule);
        PyBuffer_Release(&buf);
        return NULL;
    }
    Spans tab;
    if (spans_init(&tab) < 0) {
        Py_DECREF(capsule);
        PyBuffer_Release(&buf);
        return NULL;
    }
    PyObject *out = NULL;
    const char *start = buf.buf, *p = start, *end = p + buf.len;
    Py_ssize_t lines = 0, columns = 0;
    int ok = 1;
    const size_t nh = sizeof(HEAD) - 1, nho = sizeof(HOST) - 1, nc = sizeof(COLS) - 1,
                 na = sizeof(ADDED) - 1;
    const char *ln, *e;
    int more;
    while ((more = next_line(&sk_, start, &p, end, &ln, &e)) != 0) {
        if (more < 0)
            goto fail;
        lines++;
        /* {"name":"Q","hostIdentifier":"H", */
        if (!starts_with(ln, e, HEAD, nh)) {
            ok = 0;
            break;
        }
        const char *q0 = ln + nh, *q1 = field_end(q0, e);
        if (!starts_with(q1, e, HOST, nho)) {
            ok = 0;
            break;
        }
        const char *h0 = q1 + nho, *h1 = field_end(h0, e);
        if (!starts_with(h1, e, "\",", 2)) {
            ok = 0;
            break;
        }
        /* ... "action":"added"} at the end (before an optional carriage return) */
        const char *t = (e > ln && e[-1] == '\r') ? e - 1 : e;
        if ((size_t)(t - ln) < na || memcmp(t - na, ADDED, na) != 0) {
            ok = 0;
            break;
        }
        columns += count_in(ln, e, COLS, nc);
        /* counted under the span Q","hostIdentifier":"H (Q holds no quote: the first separator
           splits it again) */
        if (spans_add(&tab, q0, h1 - q0) < 0)
            goto fail;
    }
    if (!ok || columns != lines) {
        spans_free(&tab);
        Py_DECREF(capsule);
        PyBuffer_Release(&buf);
        Py_RETURN_NONE;
    }
    /* {query name: [rows, {host, ...}]} in the order first seen, hosts decoded as
       bytes.decode("utf-8", "replace") (by the memo, once per span) */
    out = PyDict_New();
    if (out == NULL)
        goto fail;
    for (Py_ssize_t i = 0; i < tab.used; i++) {
        Py_ssize_t k = memo_index(memo, &tab.ents[i], nho);
        if (k < 0)
            goto fail;
        PyObject *q = memo->queries[k], *host = memo->hosts[k];
        PyObject *entry = PyDict_GetItemWithError(out, q);
        if (entry == NULL) {
            if (PyErr_Occurred())
                goto fail;
            PyObject *hosts = PySet_New(NULL);
            PyObject *zero = hosts ? PyLong_FromLong(0) : NULL;
            entry = zero ? PyList_New(2) : NULL;
            if (entry == NULL) {
                Py_XDECREF(hosts);
                Py_XDECREF(zero);
                goto fail;
            }
            PyList_SET_ITEM(entry, 0, zero);
            PyList_SET_ITEM(entry, 1, hosts);
            int bad = PyDict_SetItem(out, q, entry) < 0;
            Py_DECREF(entry); /* the dict holds it */
            if (bad)
                goto fail;
        }
        PyObject *rows = PyLong_FromSsize_t(PyLong_AsSsize_t(PyList_GET_ITEM(entry, 0)) + tab.ents[i].count);
        if (rows == NULL || PyList_SetItem(entry, 0, rows) < 0 || PySet_Add(PyList_GET_ITEM(entry, 1), host) < 0)
            goto fail;
    }
    spans_free(&tab);
    Py_DECREF(capsule);
    PyBuffer_Release(&buf);
    /* lists to tuples */
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (PyDict_Next(out, &pos, &k, &v)) {
        PyObject *t = PyList_AsTuple(v);
        if (t == NULL || PyDict_SetItem(out, k, t) < 0) {
            Py_XDECREF(t);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(t);
    }
    return out;
fail:
    spans_free(&tab);
    Py_DECREF(capsule);
    PyBuffer_Release(&buf);
    Py_XDECREF(out);
    return NULL;
}

static PyObject *tsv_column(PyObject *self, PyObject *args) {
    Py_buffer buf;
    Py_ssize_t index, nfields = -1;
    PyObject *skiplist = Py_None;
    Skip k;
    if (!PyArg_ParseTuple(args, "y*n|On", &buf, &index, &skiplist, &nfields))
        return NULL;
    if (skip_init(&k, skiplist) < 0) {
        PyBuffer_Release(&buf);
        return NULL;
    }
    PyObject *values = PySet_New(NULL);
    if (values == NULL) {
        PyBuffer_Release(&buf);
        return NULL;
    }
    const char *start = buf.buf, *p = start, *end = p + buf.len;
    Py_ssize_t lines = 0;
    /* the value last added: rows of one asset usually follow each other */
    const char *last = NULL;
    Py_ssize_t last_len = -1;
    const char *ln, *e;
    int more;
    while ((more = next_line(&k, start, &p, end, &ln, &e)) != 0) {
        if (more < 0) {
            PyBuffer_Release(&buf);
            Py_DECREF(values);
            return NULL;
        }
        lines++;
        if (e == ln || (e == ln + 1 && *ln == '\r') || *ln == '#') { /* a blank or header line */
            PyBuffer_Release(&buf);
            Py_DECREF(values);
            Py_RETURN_NONE;
        }
        const char *v = ln;
        for (Py_ssize_t i = 0; i < index; i++) {
            const char *tab = memchr(v, '\t', (size_t)(e - v));
            if (tab == NULL) {
                PyBuffer_Release(&buf);
                Py_DECREF(values);
                Py_RETURN_NONE;
            }
            v = tab + 1;
        }
        const char *w = v;
        while (w < e && *w != '\t' && *w != '\r')
            w++;
        if (nfields >= 0) { /* every field there, no more: else the reader reports the line */
            if (index + count_byte(w, e - w, '\t') != nfields - 1) {
                PyBuffer_Release(&buf);
                Py_DECREF(values);
                Py_RETURN_NONE;
            }
        }
        if (last == NULL || last_len != w - v || memcmp(last, v, (size_t)(w - v)) != 0) {
            PyObject *s = PyBytes_FromStringAndSize(v, w - v);
            if (s == NULL || PySet_Add(values, s) < 0) {
                Py_XDECREF(s);
                PyBuffer_Release(&buf);
                Py_DECREF(values);
                return NULL;
            }
            Py_DECREF(s);
            last = v;
            last_len = w - v;
        }
    }
    PyBuffer_Release(&buf);
    PyObject *res = Py_BuildValue("(nN)", lines, values);
    return res;
}

/* DNS server query logs (banscan/sources/dnslog.py): what its reader makes of a line that its
   prefilter rules out.  A line (its trailing carriage returns dropped) that is not blank (spaces and
   tabs) is counted; it covers its client when the reader's BIND or dnsmasq query pattern matches
   it (BIND first).  Only lines of printable ASCII and tabs are judged (the patterns then read
   whitespace as space and tab); a line where a pattern might match from a later "client" or
   "dnsmasq" than the first is left to the reader (returned among `more`). */
static int is_blank_char(char c) { return c == ' ' || c == '\t'; }

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

static int is_addr_char(char c) { return is_hex(c) || c == ':' || c == '.'; }

static const char *skip_blank(const char *p, const char *e) {
    while (p < e && is_blank_char(*p))
        p++;
    return p;
}

static const char *skip_word(const char *p, const char *e) {
    while (p < e && !is_blank_char(*p))
        p++;
    return p;
}

/* the first occurrence of lit (n >= 2 bytes) in [p, end), or NULL: where SSE2 is there, 16 places
   a step, those where both the first and the last byte of lit stand compared in full */
static const char *find_lit(const char *p, const char *end, const char *lit, size_t n) {
    if ((size_t)(end - p) < n)
        return NULL;
#if defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
    const __m128i first = _mm_set1_epi8(lit[0]), last = _mm_set1_epi8(lit[n - 1]);
    const char *final = end - n; /* the last place lit may start */
    if (final - p >= 15) {
        const char *q = p;
        unsigned keep = 0xffff;
        for (;;) {
            __m128i a = _mm_loadu_si128((const __m128i *)q);
            __m128i b = _mm_loadu_si128((const __m128i *)(q + n - 1));
            unsigned m = keep & (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, first),
                                                                          _mm_cmpeq_epi8(b, last)));
            while (m) {
                int i = __builtin_ctz(m);
                if (memcmp(q + i + 1, lit + 1, n - 2) == 0)
                    return q + i;
                m &= m - 1;
            }
            if (q + 15 >= final)
                return NULL;
            if (final - (q + 16) >= 15) {
                q += 16;
            } else { /* the last places: the 16 ending at final, less those already seen */
                keep = 0xffffu & ~((1u << (q + 16 - (final - 15))) - 1);
                q = final - 15;
            }
        }
    }
#endif
    for (; (size_t)(end - p) >= n; p++)
        if (*p == lit[0] && memcmp(p, lit, n) == 0)
            return p;
    return NULL;
}

/* 1 when [p, e) holds only tabs and printable ASCII (16 bytes a step where SSE2 is there: a byte
   below 0x20 as a signed number is a control byte or one of 0x80 and above) */
static int printable(const char *p, const char *e) {
#if defined(__SSE2__)
    const __m128i low = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f), tab = _mm_set1_epi8('\t');
    for (; e - p >= 16; p += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)p);
        __m128i bad = _mm_or_si128(_mm_andnot_si128(_mm_cmpeq_epi8(v, tab), _mm_cmplt_epi8(v, low)),
                                   _mm_cmpeq_epi8(v, del));
        if (_mm_movemask_epi8(bad))
            return 0;
    }
#endif
    for (; p < e; p++) {
        unsigned char b = (unsigned char)*p;
        if ((b < 0x20 && b != '\t') || b > 0x7e)
            return 0;
    }
    return 1;
}

/* BIND, from after "client": \s+(?:@0x[0-9a-fA-F]+\s+)?(?P<ip>[0-9A-Fa-f:.]+)#\d+(?:\s+\([^)]*\))?:\s+
   (?:view\s+\S+:\s+)?query:\s+(?P<name>\S+)\s+(?P<class>\S+)\s+(?P<type>\S+) : 1 with the address,
   else 0 (each part has one way to match: no backtracking finds another) */
static int bind_query(const char *q, const char *e, const char **ip, const char **ip_end) {
    const char *w = skip_blank(q, e);
    if (w == q)
        return 0;
    if (e - w >= 3 && w[0] == '@' && w[1] == '0' && w[2] == 'x') {
        const char *h = w + 3;
        while (h < e && is_hex(*h))
            h++;
        const char *s = skip_blank(h, e);
        if (h > w + 3 && s > h)
            w = s;
    }
    const char *a = w;
    while (a < e && is_addr_char(*a))
        a++;
    if (a == w || a >= e || *a != '#')
        return 0;
    const char *d = a + 1;
    while (d < e && is_digit(*d))
        d++;
    if (d == a + 1)
        return 0;
    const char *x;
    if (d < e && *d == ':') {
        x = d + 1;
    } else { /* \s+\([^)]*\): */
        const char *s = skip_blank(d, e);
        if (s == d || s >= e || *s != '(')
            return 0;
        const char *r = memchr(s, ')', (size_t)(e - s));
        if (r == NULL || r + 1 >= e || r[1] != ':')
            return 0;
        x = r + 2;
    }
    const char *s = skip_blank(x, e);
    if (s == x)
        return 0;
    if (e - s >= 4 && memcmp(s, "view", 4) == 0) { /* view\s+\S+:\s+ (or nothing matches) */
        const char *v = skip_blank(s + 4, e);
        const char *t = skip_word(v, e);
        const char *n = skip_blank(t, e);
        if (v == s + 4 || t - v < 2 || t[-1] != ':' || n == t)
            return 0;
        s = n;
    }
    if (e - s < 6 || memcmp(s, "query:", 6) != 0)
        return 0;
    const char *n = s + 6;
    for (int i = 0; i < 3; i++) { /* \s+\S+ : the name, class and type */
        const char *w2 = skip_blank(n, e), *t = skip_word(w2, e);
        if (w2 == n || t == w2)
            return 0;
        n = t;
    }
    *ip = w;
    *ip_end = a;
    return 1;
}

/* dnsmasq, from after "dnsmasq": (?:\[\d+\])?:\s+(?:\d+\s+)?(?:[0-9A-Fa-f:.]+/\d+\s+)?query\[(?P<type>[^\]]+)\]
   \s+(?P<name>\S+)\s+from\s+(?P<ip>[0-9A-Fa-f:.]+) : 1 with the address, else 0 (the two optional parts,
   log-queries=extra's serial and address/port, match in one way or not at all) */
static int dnsmasq_query(const char *q, const char *e, const char **ip, const char **ip_end) {
    if (q < e && *q == '[') {
        const char *d = q + 1;
        while (d < e && is_digit(*d))
            d++;
        if (d == q + 1 || d >= e || *d != ']')
            return 0;
        q = d + 1;
    }
    if (q >= e || *q != ':')
        return 0;
    const char *s = skip_blank(q + 1, e);
    if (s == q + 1)
        return 0;
    const char *d = s;
    while (d < e && is_digit(*d))
        d++;
    const char *w = skip_blank(d, e);
    if (d > s && w > d)
        s = w; /* \d+\s+ */
    const char *a = s;
    while (a < e && is_addr_char(*a))
        a++;
    if (a > s && a < e && *a == '/') { /* [0-9A-Fa-f:.]+/\d+\s+ */
        d = a + 1;
        while (d < e && is_digit(*d))
            d++;
        w = skip_blank(d, e);
        if (d > a + 1 && w > d)
            s = w;
    }
    if (e - s < 6 || memcmp(s, "query[", 6) != 0)
        return 0;
    const char *r = memchr(s + 6, ']', (size_t)(e - s - 6));
    if (r == NULL || r == s + 6)
        return 0;
    const char *nw = skip_blank(r + 1, e), *n = skip_word(nw, e), *f = skip_blank(n, e);
    if (nw == r + 1 || n == nw || f == n || e - f < 4 || memcmp(f, "from", 4) != 0)
        return 0;
    const char *g = skip_blank(f + 4, e);
    a = g;
    while (a < e && is_addr_char(*a))
        a++;
    if (g == f + 4 || a == g)
        return 0;
    *ip = g;
    *ip_end = a;
    return 1;
}

/* 0: the line covers nothing; 1: it covers [*ip, *ip_end); 2: the reader must judge it.  A pattern
   that matches from the first "client" (BIND) or "dnsmasq" is the leftmost match; one that does not
   may match from a later one (then the reader judges the line). */
static int dns_line(const char *p, const char *e, const char **ip, const char **ip_end) {
    if (find_lit(p, e, "query", 5) == NULL)
        return 0; /* (both patterns need it) */
    const char *c = find_lit(p, e, "client", 6);
    if (c != NULL) {
        if (bind_query(c + 6, e, ip, ip_end))
            return 1;
        if (find_lit(c + 1, e, "client", 6) != NULL)
            return 2;
    }
    const char *d = find_lit(p, e, "dnsmasq", 7); /* (BIND matches nowhere) */
    if (d == NULL)
        return 0;
    if (dnsmasq_query(d + 7, e, ip, ip_end))
        return 1;
    return find_lit(d + 1, e, "dnsmasq", 7) != NULL ? 2 : 0;
}

/* The distinct client addresses of a block, each copied into its entry (comparing with the block's
   own bytes would read a line far back, out of cache, for nearly every line); one longer than an
   entry holds goes to a Spans table instead. */
#define ADDR_MAX 46
typedef struct {
    uint64_t h;
    int n; /* 0: empty */
    char key[ADDR_MAX];
} Addr;

typedef struct {
    Addr *ents;
    Py_ssize_t used, cap; /* cap: a power of two, at most half full */
} Addrs;

static int addrs_init(Addrs *t) {
    t->used = 0;
    t->cap = 256;
    t->ents = PyMem_Calloc((size_t)t->cap, sizeof(Addr));
    if (t->ents == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* a hash of [p, p + n): two overlapping words for 8 to 16 bytes (an IPv4 address), else span_hash */
static uint64_t addr_hash(const char *p, Py_ssize_t n) {
    if (n < 8 || n > 16)
        return span_hash(p, n);
    uint64_t a, b;
    memcpy(&a, p, 8);
    memcpy(&b, p + n - 8, 8);
    uint64_t h = (a * 0x9e3779b97f4a7c15ULL) ^ (b * 0xff51afd7ed558ccdULL) ^ (uint64_t)n;
    return h ^ (h >> 29);
}

/* add [p, p + n) (n <= ADDR_MAX): 0, or -1 (memory error set) */
static int addrs_add(Addrs *t, const char *p, Py_ssize_t n) {
    uint64_t h = addr_hash(p, n);
    size_t mask = (size_t)t->cap - 1, j = (size_t)h & mask;
    for (; t->ents[j].n; j = (j + 1) & mask)
        if (t->ents[j].h == h && t->ents[j].n == n && memcmp(t->ents[j].key, p, (size_t)n) == 0)
            return 0;
    if (2 * (t->used + 1) > t->cap) { /* grow, and place every entry again */
        Py_ssize_t cap = t->cap * 2;
        Addr *ents = PyMem_Calloc((size_t)cap, sizeof(Addr));
        if (ents == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        for (Py_ssize_t i = 0; i < t->cap; i++) {
            if (!t->ents[i].n)
                continue;
            size_t k = (size_t)t->ents[i].h & (size_t)(cap - 1);
            while (ents[k].n)
                k = (k + 1) & (size_t)(cap - 1);
            ents[k] = t->ents[i];
        }
        PyMem_Free(t->ents);
        t->ents = ents;
        t->cap = cap;
        mask = (size_t)cap - 1;
        for (j = (size_t)h & mask; t->ents[j].n; j = (j + 1) & mask)
            ;
    }
    t->ents[j].h = h;
    t->ents[j].n = (int)n;
    memcpy(t->ents[j].key, p, (size_t)n);
    t->used++;
    return 0;
}

/* The distinct values a line scan collects (client addresses, an asset column's values): an Addr
   each, a Spans entry for one too long for an Addr, a flag for the empty one; the value of the line
   before is not looked up again (rows of one host usually follow each other). */
typedef struct {
    Addrs addrs;
    Spans long_ones;
    int empty;
    const char *last;
    Py_ssize_t last_len;
} Values;

static int values_init(Values *v) {
    if (spans_init(&v->long_ones) < 0)
        return -1;
    if (addrs_init(&v->addrs) < 0) {
        spans_free(&v->long_ones);
        return -1;
    }
    v->empty = 0;
    v->last = NULL;
    v->last_len = -1;
    return 0;
}

static void values_free(Values *v) {
    PyMem_Free(v->addrs.ents);
    spans_free(&v->long_ones);
}

/* add [p, p + n): 0, or -1 (memory error set) */
static int values_add(Values *v, const char *p, Py_ssize_t n) {
    if (n == 0) {
        v->empty = 1;
        return 0;
    }
    if (v->last != NULL && v->last_len == n && memcmp(v->last, p, (size_t)n) == 0)
        return 0;
    if ((n <= ADDR_MAX ? addrs_add(&v->addrs, p, n) : spans_add(&v->long_ones, p, n)) < 0)
        return -1;
    v->last = p;
    v->last_len = n;
    return 0;
}

static int set_add_bytes(PyObject *set, const char *p, Py_ssize_t n) {
    PyObject *b = PyBytes_FromStringAndSize(p, n);
    if (b == NULL || PySet_Add(set, b) < 0) {
        Py_XDECREF(b);
        return -1;
    }
    Py_DECREF(b);
    return 0;
}

/* the values as a set of bytes (a new reference), or NULL */
static PyObject *values_set(Values *v) {
    PyObject *set = PySet_New(NULL);
    if (set == NULL)
        return NULL;
    if (v->empty && set_add_bytes(set, "", 0) < 0)
        goto fail;
    for (Py_ssize_t i = 0; i < v->long_ones.used; i++)
        if (set_add_bytes(set, v->long_ones.ents[i].p, v->long_ones.ents[i].n) < 0)
            goto fail;
    for (Py_ssize_t i = 0; i < v->addrs.cap; i++)
        if (v->addrs.ents[i].n && set_add_bytes(set, v->addrs.ents[i].key, v->addrs.ents[i].n) < 0)
            goto fail;
    return set;
fail:
    Py_DECREF(set);
    return NULL;
}

static int append_offset(PyObject *list, Py_ssize_t off) {
    PyObject *o = PyLong_FromSsize_t(off);
    if (o == NULL || PyList_Append(list, o) < 0) {
        Py_XDECREF(o);
        return -1;
    }
    Py_DECREF(o);
    return 0;
}

/* A line judge of judged_lines: 0 when the line is counted (with its value in [*v, *ve), or *v
   NULL for none), 1 when it is left to the reader, 2 when it is blank (neither), -1 when the block
   is not judged at all (judged_lines gives None). */
typedef int (*Judge)(const char *ln, const char *e, const void *arg, const char **v, const char **ve);

/* (lines counted, set of their values, [start offsets of the lines left to the reader]) of the lines
   of `buf` but those of `skiplist`, each without its trailing carriage returns, as `judge` judges
   them; None, or NULL on error */
static PyObject *judged_lines(Py_buffer *buf, PyObject *skiplist, Judge judge, const void *arg) {
    Skip k;
    Values found;
    if (skip_init(&k, skiplist) < 0 || values_init(&found) < 0)
        return NULL;
    const char *start = buf->buf, *p = start, *end = p + buf->len, *ln, *e;
    Py_ssize_t lines = 0;
    PyObject *res = NULL, *values = NULL, *more = PyList_New(0);
    int got;
    if (more == NULL)
        goto done;
    while ((got = next_line(&k, start, &p, end, &ln, &e)) != 0) {
        if (got < 0)
            goto done;
        const char *line = ln, *v = NULL, *ve = NULL;
        while (e > ln && e[-1] == '\r')
            e--;
        int kind = judge(ln, e, arg, &v, &ve);
        if (kind < 0) {
            res = Py_None;
            Py_INCREF(res);
            goto done;
        }
        if (kind == 1 && append_offset(more, line - start) < 0)
            goto done;
        if (kind != 0)
            continue;
        lines++;
        if (v != NULL && values_add(&found, v, ve - v) < 0)
            goto done;
    }
    values = values_set(&found);
    if (values != NULL)
        res = Py_BuildValue("(nOO)", lines, values, more);
done:
    Py_XDECREF(values);
    Py_XDECREF(more);
    values_free(&found);
    return res;
}

static int dns_judge(const char *ln, const char *e, const void *arg, const char **v, const char **ve) {
    if (!printable(ln, e))
        return -1;
    if (skip_blank(ln, e) == e)
        return 2;
    const char *ip, *ip_end;
    int kind = dns_line(ln, e, &ip, &ip_end);
    if (kind == 2)
        return 1;
    if (kind == 1) {
        *v = ip;
        *ve = ip_end;
    }
    return 0;
}

static PyObject *dns_clients(PyObject *self, PyObject *args) {
    Py_buffer buf;
    PyObject *skiplist = Py_None;
    if (!PyArg_ParseTuple(args, "y*|O", &buf, &skiplist))
        return NULL;
    PyObject *res = judged_lines(&buf, skiplist, dns_judge, NULL);
    PyBuffer_Release(&buf);
    return res;
}

/* Zeek JSON logs (banscan/sources/zeek.py): a line its reader may count without parsing it.  A
   line (its trailing carriage returns dropped) is judged here when it is blank (spaces and tabs:
   not counted) or a compact JSON object of printable ASCII without a backslash, whose values are
   strings, numbers, true, false, null or arrays of those (no object inside, no whitespace outside
   strings) and which holds the asset column `col` at most once, as a string if at all: counted,
   with the column's value (empty when it is not there).  Every other line is left to the reader
   (returned among `more`). */
static const char *json_string(const char *p, const char *e) { /* p at '"': after the closing quote, or NULL */
    const char *q = memchr(p + 1, '"', (size_t)(e - p - 1));
    return q ? q + 1 : NULL;
}

static const char *json_number(const char *p, const char *e) {
    if (p < e && *p == '-')
        p++;
    if (p >= e || !is_digit(*p))
        return NULL;
    if (*p == '0')
        p++;
    else
        while (p < e && is_digit(*p))
            p++;
    if (p < e && *p == '.') {
        const char *d = ++p;
        while (p < e && is_digit(*p))
            p++;
        if (p == d)
            return NULL;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        const char *d = p;
        while (p < e && is_digit(*p))
            p++;
        if (p == d)
            return NULL;
    }
    return p;
}

static const char *json_scalar(const char *p, const char *e) {
    if (p >= e)
        return NULL;
    if (*p == '"')
        return json_string(p, e);
    if (e - p >= 4 && (memcmp(p, "true", 4) == 0 || memcmp(p, "null", 4) == 0))
        return p + 4;
    if (e - p >= 5 && memcmp(p, "false", 5) == 0)
        return p + 5;
    return json_number(p, e);
}

/* 1 when [p, e) is such an object (then *v, *v_end: the column's string value, or NULL), else 0 */
static int json_flat_object(const char *p, const char *e, const char *col, size_t ncol, const char **v,
                            const char **v_end) {
    *v = *v_end = NULL;
    int seen = 0;
    if (e - p < 2 || *p != '{' || e[-1] != '}' || memchr(p, '\\', (size_t)(e - p)) != NULL)
        return 0;
    p++;
    if (*p == '}')
        return p + 1 == e;
    for (;;) {
        if (*p != '"')
            return 0;
        const char *k = p + 1, *ke = json_string(p, e);
        if (ke == NULL || ke >= e || *ke != ':')
            return 0;
        int is_col = col != NULL && (size_t)(ke - 1 - k) == ncol && memcmp(k, col, ncol) == 0;
        p = ke + 1;
        if (p >= e)
            return 0;
        if (*p == '[') {
            if (is_col)
                return 0;
            p++;
            if (p < e && *p == ']') {
                p++;
            } else {
                for (;;) {
                    p = json_scalar(p, e);
                    if (p == NULL || p >= e)
                        return 0;
                    if (*p == ']') {
                        p++;
                        break;
                    }
                    if (*p != ',')
                        return 0;
                    p++;
                }
            }
        } else {
            const char *s = p;
            p = json_scalar(p, e);
            if (p == NULL)
                return 0;
            if (is_col) {
                if (seen++ || *s != '"')
                    return 0;
                *v = s + 1;
                *v_end = p - 1;
            }
        }
        if (p >= e)
            return 0;
        if (*p == '}')
            return p + 1 == e;
        if (*p != ',')
            return 0;
        p++;
    }
}

typedef struct {
    const char *col;
    size_t ncol;
} Column;

static int zeek_json_judge(const char *ln, const char *e, const void *arg, const char **v, const char **ve) {
    const Column *c = arg;
    int plain = printable(ln, e);
    if (plain && skip_blank(ln, e) == e)
        return 2;
    if (!plain || !json_flat_object(ln, e, c->col, c->ncol, v, ve))
        return 1;
    if (*v == NULL)
        *v = *ve = ln; /* (no value: the empty one) */
    return 0;
}

static PyObject *zeek_json(PyObject *self, PyObject *args) {
    Py_buffer buf;
    PyObject *skiplist = Py_None, *colobj = Py_None;
    if (!PyArg_ParseTuple(args, "y*|OO", &buf, &skiplist, &colobj))
        return NULL;
    Column c = {NULL, 0};
    if (colobj != Py_None) {
        if (!PyBytes_Check(colobj)) {
            PyBuffer_Release(&buf);
            PyErr_SetString(PyExc_TypeError, "col: bytes or None");
            return NULL;
        }
        c.col = PyBytes_AS_STRING(colobj);
        c.ncol = (size_t)PyBytes_GET_SIZE(colobj);
    }
    PyObject *res = judged_lines(&buf, skiplist, zeek_json_judge, &c);
    PyBuffer_Release(&buf);
    return res;
}

static PyObject *occurrences(PyObject *self, PyObject *args) {
    Py_buffer buf;
    const char *lit;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "y*y#", &buf, &lit, &n))
        return NULL;
    if (n < 2) {
        PyBuffer_Release(&buf);
        PyErr_SetString(PyExc_ValueError, "occurrences: a literal of two bytes or more");
        return NULL;
    }
    const char *p = buf.buf, *end = p + buf.len;
    Py_ssize_t c = 0;
    while ((p = find_lit(p, end, lit, (size_t)n)) != NULL) {
        c++;
        p += n;
    }
    PyBuffer_Release(&buf);
    return PyLong_FromSsize_t(c);
}

/* CSV exports (banscan/sources/software_csv.py, read with Python's csv module, excel dialect with
   the delimiter `delim`).  The csv module's states within a physical line: a field's start, an
   unquoted field, a quoted field, a quote in a quoted field, and after a carriage return (where
   any byte but a newline or carriage return is an error: the rest of the line is dropped). */
enum { CSV_START, CSV_FIELD, CSV_QUOTED, CSV_QUOTE_IN_QUOTED, CSV_CRNL, CSV_ERROR };

static int csv_step(int st, char c, char delim) {
    switch (st) {
    case CSV_START:
        return c == '"' ? CSV_QUOTED : c == delim ? CSV_START : c == '\r' ? CSV_CRNL : CSV_FIELD;
    case CSV_FIELD:
        return c == delim ? CSV_START : c == '\r' ? CSV_CRNL : CSV_FIELD;
    case CSV_QUOTED:
        return c == '"' ? CSV_QUOTE_IN_QUOTED : CSV_QUOTED;
    case CSV_QUOTE_IN_QUOTED:
        return c == '"' ? CSV_QUOTED : c == delim ? CSV_START : c == '\r' ? CSV_CRNL : CSV_FIELD;
    case CSV_CRNL:
        return c == '\r' ? CSV_CRNL : CSV_ERROR;
    }
    return CSV_ERROR;
}

/* csv_open_line(b, delim, start=0): the start offset of the first line of b[start:] (start at a
   line's start) that ends with its newline inside a quoted field, the state at each line's start
   being a record's start; -1 when there is none.  Where a line holds no quote, no field opens. */
static PyObject *csv_open_line(PyObject *self, PyObject *args) {
    Py_buffer buf;
    char delim;
    Py_ssize_t start = 0;
    if (!PyArg_ParseTuple(args, "y*c|n", &buf, &delim, &start))
        return NULL;
    const char *base = buf.buf, *end = base + buf.len;
    const char *p = base + (start < 0 ? 0 : start > buf.len ? buf.len : start);
    Py_ssize_t found = -1;
    while (p < end) {
        const char *q = memchr(p, '"', (size_t)(end - p));
        if (q == NULL)
            break;
        /* the line holding the quote: run from its start */
        const char *ln = q;
        while (ln > p && ln[-1] != '\n')
            ln--;
        int st = CSV_START;
        const char *c = ln;
        for (; c < end && *c != '\n'; c++) {
            st = csv_step(st, *c, delim);
            if (st == CSV_ERROR) {
                c = line_end(c, end);
                break;
            }
        }
        if (c < end && st == CSV_QUOTED) {
            found = ln - base;
            break;
        }
        p = (c < end) ? c + 1 : end;
    }
    PyBuffer_Release(&buf);
    return PyLong_FromSsize_t(found);
}

/* csv_record_end(b, delim, start, max_line, limit): the offset after the last line of the record
   starting at `start` (a line's start, where a record starts) as the csv module reads it: -1 when
   it does not end before the last newline of b, -2 when that is not known here (a line of it longer
   than max_line bytes, which the reader skips, or a cell of more than `limit` bytes, which may pass
   the csv module's field limit: its error would end the record). */
static PyObject *csv_record_end(PyObject *self, PyObject *args) {
    Py_buffer buf;
    char delim;
    Py_ssize_t start, max_line, limit;
    if (!PyArg_ParseTuple(args, "y*cnnn", &buf, &delim, &start, &max_line, &limit))
        return NULL;
    const char *base = buf.buf, *end = base + buf.len;
    const char *p = base + (start < 0 ? 0 : start > buf.len ? buf.len : start);
    Py_ssize_t found = -1, cell = 0;
    int st = CSV_START, over = 0; /* over: a cell has had more than `limit` bytes */
    while (p < end) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        if (e == NULL)
            break; /* (no newline: the record may go on) */
        if (e - p > max_line) {
            found = -2;
            break;
        }
        for (; p < e; p++) {
            st = csv_step(st, *p, delim);
            if (st == CSV_ERROR)
                break;
            cell = (st == CSV_START) ? 0 : cell + 1;
            if (cell > limit)
                over = 1;
        }
        if (st != CSV_QUOTED) { /* (an error drops the rest of the line: the record ends there too) */
            found = e + 1 - base;
            break;
        }
        if (over || ++cell > limit) { /* (the newline is in the cell) */
            found = -2;
            break;
        }
        p = e + 1;
    }
    PyBuffer_Release(&buf);
    return PyLong_FromSsize_t(found);
}

typedef struct {
    char delim;
    Py_ssize_t width, name, bundle, platform, asset;
    int mobile_export;
} CsvLayout;

/* 1 when the n bytes at p equal the lower-case ASCII `lit`, in any case */
static int ascii_ieq(const char *p, const char *lit, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != lit[i])
            return 0;
    }
    return 1;
}

/* The length of the UTF-8 encoded Unicode space (str.isspace: U+0085, U+00A0, U+1680, U+2000 to
   U+200A, U+2028, U+2029, U+202F, U+205F, U+3000) of two or three bytes at q, 0 if none */
static int uspace(const unsigned char *q, Py_ssize_t room) {
    if (room >= 2 && q[0] == 0xc2 && (q[1] == 0x85 || q[1] == 0xa0))
        return 2;
    if (room < 3)
        return 0;
    if ((q[0] == 0xe1 && q[1] == 0x9a && q[2] == 0x80) || (q[0] == 0xe3 && q[1] == 0x80 && q[2] == 0x80) ||
        (q[0] == 0xe2 && q[1] == 0x81 && q[2] == 0x9f))
        return 3;
    if (q[0] == 0xe2 && q[1] == 0x80 && (q[2] <= 0x8a || q[2] == 0xa8 || q[2] == 0xa9 || q[2] == 0xaf))
        return 3; /* (q[2] is a continuation byte: 0x80 and above) */
    return 0;
}

/* [*p, *e) (UTF-8 text without control bytes but tabs) stripped as the reader strips a cell
   (str.strip: spaces, tabs and the Unicode spaces) */
static void csv_strip(const char **p, const char **e) {
    for (;;) {
        int n = 0;
        if (*p < *e && is_blank_char(**p))
            n = 1;
        else if (*p < *e && (unsigned char)**p >= 0xc2)
            n = uspace((const unsigned char *)*p, *e - *p);
        if (!n)
            break;
        *p += n;
    }
    for (;;) {
        int n = 0;
        if (*e > *p && is_blank_char((*e)[-1]))
            n = 1;
        else if (*e - *p >= 2 && uspace((const unsigned char *)*e - 2, 2) == 2)
            n = 2;
        else if (*e - *p >= 3 && uspace((const unsigned char *)*e - 3, 3) == 3)
            n = 3;
        if (!n)
            break;
        *e -= n;
    }
}

/* a stripped cell [*p, *e) made empty for NOASSERTION or NONE (any case), as the reader cleans the
   cells it reads */
static void csv_none(const char **p, const char **e) {
    Py_ssize_t n = *e - *p;
    if ((n == 11 && ascii_ieq(*p, "noassertion", 11)) || (n == 4 && ascii_ieq(*p, "none", 4)))
        *e = *p;
}

static int csv_starts_with(const char *p, const char *e, const char *lit) {
    size_t n = strlen(lit);
    return (size_t)(e - p) >= n && ascii_ieq(p, lit, n);
}

/* 1 when [p, e) is UTF-8 as Python's strict decoder takes it (no overlong forms, surrogates or
   code points above U+10FFFF) and holds no control byte but tabs (below 0x20, or 0x7f) */
static int utf8_text(const char *p, const char *e) {
    const unsigned char *s = (const unsigned char *)p, *t = (const unsigned char *)e;
    while (s < t) {
        unsigned char b = *s;
        if (b < 0x80) {
            if ((b < 0x20 && b != '\t') || b == 0x7f)
                return 0;
            s++;
            continue;
        }
        int n;
        unsigned char lo = 0x80, hi = 0xbf; /* the bounds of the second byte */
        if (b >= 0xc2 && b <= 0xdf)
            n = 1;
        else if (b >= 0xe0 && b <= 0xef) {
            n = 2;
            if (b == 0xe0)
                lo = 0xa0;
            else if (b == 0xed)
                hi = 0x9f;
        } else if (b >= 0xf0 && b <= 0xf4) {
            n = 3;
            if (b == 0xf0)
                lo = 0x90;
            else if (b == 0xf4)
                hi = 0x8f;
        } else
            return 0;
        if (t - s <= n || s[1] < lo || s[1] > hi)
            return 0;
        for (int i = 2; i <= n; i++)
            if (s[i] < 0x80 || s[i] > 0xbf)
                return 0;
        s += n + 1;
    }
    return 1;
}

static int ascii_only(const char *p, const char *e) {
    for (; p < e; p++)
        if ((unsigned char)*p > 0x7f)
            return 0;
    return 1;
}

/* 1 when the non-ASCII cell [p, e) may be NOASSERTION to the reader (str.upper: its characters
   are letters of NOASSERTION, in any case, or ß, ı, ſ, ﬅ, ﬆ, which upper-case to them) */
static int csv_may_be_none(const char *p, const char *e) {
    static const char letters[] = "noasertiNOASERTI";
    while (p < e) {
        const unsigned char *q = (const unsigned char *)p;
        if (*q < 0x80 && *q && strchr(letters, *q) != NULL)
            p++;
        else if (e - p >= 2 && ((q[0] == 0xc3 && q[1] == 0x9f) || (q[0] == 0xc4 && q[1] == 0xb1) ||
                                (q[0] == 0xc5 && q[1] == 0xbf)))
            p += 2;
        else if (e - p >= 3 && q[0] == 0xef && q[1] == 0xac && (q[2] == 0x85 || q[2] == 0x86))
            p += 3;
        else
            return 0;
    }
    return 1;
}

/* A line of a CSV export (no newline or trailing carriage returns; a record of its own): 2 when
   its cells are all blank (the reader skips it), 0 when the reader would count it as a row its
   prefilter rules out, with the asset cell as value, 1 for any other line (the reader reads it):
   one that is not UTF-8 text without control bytes but tabs, holds a quoted cell without its
   closing quote or with a byte after it, a platform or asset cell with a doubled quote, has not
   as many cells as the header, has no software name, has
   an asset or platform cell that is not ASCII, a name or bundle cell that may upper-case to
   NOASSERTION, or is a mobile app's row in an export that is not of mobile devices (rows
   counted are then all of one class). */
static int csv_judge(const char *ln, const char *e, const void *arg, const char **v, const char **ve) {
    const CsvLayout *lay = arg;
    int plain = printable(ln, e);
    if (!plain && !utf8_text(ln, e))
        return 1;
    const char *cs[4] = {NULL, NULL, NULL, NULL}, *ce[4] = {NULL, NULL, NULL, NULL};
    const Py_ssize_t want[4] = {lay->name, lay->bundle, lay->platform, lay->asset};
    Py_ssize_t cells = 0;
    int blank = 1;
    const char *p = ln;
    for (;;) {
        const char *fs, *fe;
        int escaped = 0; /* the quoted cell holds a doubled quote (its text is not these bytes) */
        if (p < e && *p == '"') {
            fs = p + 1;
            const char *q = fs;
            for (;;) {
                q = memchr(q, '"', (size_t)(e - q));
                if (q == NULL)
                    return 1; /* no closing quote */
                if (q + 1 < e && q[1] == '"') {
                    escaped = 1;
                    q += 2;
                    continue;
                }
                break;
            }
            if (q + 1 < e && q[1] != lay->delim)
                return 1; /* a stray byte after the closing quote */
            fe = q;
            p = q + 1;
        } else {
            fs = p;
            const char *d = memchr(p, lay->delim, (size_t)(e - p));
            fe = p = (d == NULL) ? e : d;
        }
        const char *a = fs, *b = fe;
        csv_strip(&a, &b);
        if (b > a)
            blank = 0;
        for (int i = 0; i < 4; i++)
            if (want[i] == cells) {
                if (escaped && i >= 2)
                    return 1; /* a platform or asset cell with a doubled quote: the reader reads it */
                cs[i] = a;
                ce[i] = b;
            }
        cells++;
        if (p >= e)
            break;
        p++; /* the delimiter */
        if (p == e) { /* a last, empty cell */
            cells++;
            break;
        }
    }
    if (blank)
        return 2;
    if (cells != lay->width)
        return 1;
    for (int i = 0; i < 4; i++)
        if (cs[i] != NULL)
            csv_none(&cs[i], &ce[i]);
    if (!plain && ((cs[2] != NULL && !ascii_only(cs[2], ce[2])) || (cs[3] != NULL && !ascii_only(cs[3], ce[3]))))
        return 1;
    if (!plain)
        for (int i = 0; i < 2; i++)
            if (cs[i] != NULL && !ascii_only(cs[i], ce[i]) && csv_may_be_none(cs[i], ce[i]))
                return 1;
    int has_name = cs[0] != NULL && ce[0] > cs[0], has_bundle = cs[1] != NULL && ce[1] > cs[1];
    if (!lay->mobile_export) {
        if (has_bundle)
            return 1;
        if (cs[2] != NULL && (csv_starts_with(cs[2], ce[2], "ios") || csv_starts_with(cs[2], ce[2], "ipados") ||
                              csv_starts_with(cs[2], ce[2], "android")))
            return 1;
    }
    if (!has_name && !has_bundle)
        return 1;
    if (cs[3] != NULL) {
        *v = cs[3];
        *ve = ce[3];
    } else {
        *v = *ve = ln; /* no asset column: the empty value */
    }
    return 0;
}

static PyObject *csv_rows(PyObject *self, PyObject *args) {
    Py_buffer buf;
    PyObject *skiplist;
    CsvLayout lay;
    if (!PyArg_ParseTuple(args, "y*Ocnnnnnp", &buf, &skiplist, &lay.delim, &lay.width, &lay.name, &lay.bundle,
                          &lay.platform, &lay.asset, &lay.mobile_export))
        return NULL;
    PyObject *res = judged_lines(&buf, skiplist, csv_judge, &lay);
    PyBuffer_Release(&buf);
    return res;
}

static PyMethodDef methods[] = {
    {"newlines", newlines, METH_VARARGS, "newlines(b, start=0, end=len(b)): as b.count(b'\\n', start, end)."},
    {"long_lines", long_lines, METH_VARARGS, "Start offsets of the lines at least size bytes long."},
    {"osquery_events", osquery_events, METH_VARARGS,
     "{query name: (rows, {host, ...})} when every line is an osquery 'added' event, else None."},
    {"span_memo", span_memo, METH_NOARGS,
     "A memo for osquery_events(block, skip, memo): the query names and hosts of spans seen before."},
    {"tsv_column", tsv_column, METH_VARARGS,
     "(rows, set of values of the tab-separated column) when every line has it (and nfields fields), else None."},
    {"dns_clients", dns_clients, METH_VARARGS,
     "(lines, set of client addresses, [lines left to the reader]) of DNS query log lines, else None."},
    {"occurrences", occurrences, METH_VARARGS, "occurrences(b, lit): as b.count(lit), lit of two bytes or more."},
    {"zeek_json", zeek_json, METH_VARARGS,
     "(lines, set of the asset column's values, [lines left to the reader]) of compact flat Zeek JSON lines."},
    {"csv_open_line", csv_open_line, METH_VARARGS,
     "csv_open_line(b, delim, start=0): the first line ending inside a quoted field, or -1."},
    {"csv_record_end", csv_record_end, METH_VARARGS,
     "csv_record_end(b, delim, start, max_line, limit): the end of the record at start, -1 or -2."},
    {"csv_rows", csv_rows, METH_VARARGS,
     "(rows, set of asset cells, [lines left to the reader]) of single-line CSV records."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_lines", NULL, -1, methods};

PyMODINIT_FUNC PyInit__lines(void) { return PyModule_Create(&module); }
