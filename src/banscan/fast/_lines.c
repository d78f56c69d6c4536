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

/* the newlines of [p, p + n): 16 bytes a step where SSE2 is there (each compare gives -1 for a
   newline: subtracted into bytes at most 255 times, then summed into two 64-bit lanes) */
static Py_ssize_t count_newlines(const char *p, Py_ssize_t n) {
    Py_ssize_t c = 0;
#if defined(__SSE2__)
    const __m128i nl = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();
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
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        c++;
        p++;
    }
    return c;
}

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
    Py_ssize_t index;
    PyObject *skiplist = Py_None;
    Skip k;
    if (!PyArg_ParseTuple(args, "y*n|O", &buf, &index, &skiplist))
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

static PyMethodDef methods[] = {
    {"newlines", newlines, METH_VARARGS, "newlines(b, start=0, end=len(b)): as b.count(b'\\n', start, end)."},
    {"long_lines", long_lines, METH_VARARGS, "Start offsets of the lines at least size bytes long."},
    {"osquery_events", osquery_events, METH_VARARGS,
     "{query name: (rows, {host, ...})} when every line is an osquery 'added' event, else None."},
    {"span_memo", span_memo, METH_NOARGS,
     "A memo for osquery_events(block, skip, memo): the query names and hosts of spans seen before."},
    {"tsv_column", tsv_column, METH_VARARGS,
     "(rows, set of values of the tab-separated column) when every line has it, else None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_lines", NULL, -1, methods};

PyMODINIT_FUNC PyInit__lines(void) { return PyModule_Create(&module); }
