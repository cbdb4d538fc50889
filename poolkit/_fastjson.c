/* _fastjson: read one-line number-pool responses and parse them straight into Arrow buffers.
 *
 * read_lines() reads files back to back into a buffer, one JSON object per line; parse()
 * turns such a batch into columns. Both run without the GIL.
 *
 * parse() accepts only what the careful path (poolkit/tidy.py) would read without a single
 * problem row: the documented envelope and fields with their documented types, E.164
 * numbers, valid UTF-8, no repeated keys. For anything else it answers None, and the batch
 * is read again by the path that writes problem rows. It never guesses.
 *
 * Columns come back as Arrow buffers (validity bitmap, int64 offsets, UTF-8 data) held by
 * small Python objects that own the memory, so pyarrow wraps them without a copy.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --------------------------------------------------------------- owned memory */

typedef struct {
    PyObject_HEAD
    unsigned char *data;
    Py_ssize_t size;
} Owned;

static int owned_getbuffer(Owned *self, Py_buffer *view, int flags) {
    return PyBuffer_FillInfo(view, (PyObject *)self, self->data, self->size, 1, flags);
}

static void owned_dealloc(Owned *self) {
    free(self->data);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyBufferProcs owned_as_buffer = {(getbufferproc)owned_getbuffer, NULL};

static PyTypeObject OwnedType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "poolkit._fastjson.Owned",
    .tp_doc = "Memory written by the parser, exposed through the buffer protocol.",
    .tp_basicsize = sizeof(Owned),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_dealloc = (destructor)owned_dealloc,
    .tp_as_buffer = &owned_as_buffer,
};

/* --------------------------------------------------------------- growable bytes */

typedef struct {
    unsigned char *p;
    size_t len, cap;
} Mem;

static int mem_reserve(Mem *m, size_t extra) {
    if (m->len + extra <= m->cap) return 0;
    size_t cap = m->cap ? m->cap : 4096;
    while (cap < m->len + extra) cap *= 2;
    unsigned char *p = realloc(m->p, cap);
    if (!p) return -1;
    m->p = p;
    m->cap = cap;
    return 0;
}

static inline int mem_put(Mem *m, const void *src, size_t n) {
    if (mem_reserve(m, n)) return -1;
    memcpy(m->p + m->len, src, n);
    m->len += n;
    return 0;
}

static inline int mem_i64(Mem *m, int64_t v) { return mem_put(m, &v, sizeof v); }

/* Hand the bytes to Python (shrunk to size) and forget them here. */
static PyObject *mem_give(Mem *m) {
    if (!m->p && mem_reserve(m, 8)) return PyErr_NoMemory();  /* a real pointer, even for no bytes */
    Owned *o = PyObject_New(Owned, &OwnedType);
    if (!o) return NULL;
    unsigned char *p = m->len ? realloc(m->p, m->len) : m->p;
    o->data = p ? p : m->p;
    o->size = (Py_ssize_t)m->len;
    m->p = NULL;
    m->len = m->cap = 0;
    return (PyObject *)o;
}

/* --------------------------------------------------------------- Arrow columns */

typedef struct {  /* large_string: validity bitmap, int64 offsets, data */
    Mem valid, offsets, data;
    int64_t n, nulls;
} Str;

typedef struct {  /* bool: validity bitmap, value bitmap */
    Mem valid, values;
    int64_t n, nulls;
} Bool;

static inline int bit_push(Mem *bits, int64_t i, int on) {
    if ((i & 7) == 0) {
        unsigned char zero = 0;
        if (mem_put(bits, &zero, 1)) return -1;
    }
    if (on) bits->p[i >> 3] |= (unsigned char)(1u << (i & 7));
    return 0;
}

static int str_init(Str *s) { return mem_i64(&s->offsets, 0); }

static int str_end(Str *s, int valid) {  /* close the value written to s->data since the last end */
    if (bit_push(&s->valid, s->n, valid) || mem_i64(&s->offsets, (int64_t)s->data.len)) return -1;
    s->n++;
    s->nulls += !valid;
    return 0;
}

static int bool_push(Bool *b, int value) {  /* value: 0, 1, or -1 for null */
    if (bit_push(&b->valid, b->n, value >= 0) || bit_push(&b->values, b->n, value == 1)) return -1;
    b->n++;
    b->nulls += value < 0;
    return 0;
}

/* --------------------------------------------------------------- parser state */

enum { CLEAN = 0, UNCLEAN = -1, NOMEM = -2 };

typedef struct {
    const unsigned char *p, *end;
    Str loc, id, name, fwd, msg, stype, svalue, phone, friendly;
    Bool whisper, rec, active;
    Mem count, file, has_service;  /* int64, int64, uint8 per pool */
    int64_t pools, numbers;
} State;

#define TRY(call) do { int rc_ = (call); if (rc_) return rc_; } while (0)
#define NEED(cond) do { if (!(cond)) return UNCLEAN; } while (0)
#define MEM(call) do { if (call) return NOMEM; } while (0)

/* bytes that may be copied as they are inside a JSON string */
static unsigned char PLAIN[256];

static void init_tables(void) {
    for (int c = 0; c < 256; c++) PLAIN[c] = c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

static inline void skip_ws(State *s) {
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n')) s->p++;
}

static inline int expect(State *s, unsigned char c) {
    skip_ws(s);
    if (s->p >= s->end || *s->p != c) return 0;
    s->p++;
    return 1;
}

/* Length of the valid UTF-8 sequence at p (strict, as Python decodes), or 0. */
static int utf8_len(const unsigned char *p, const unsigned char *end) {
    unsigned char c = p[0];
    int n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;  /* no UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else return 0;
    if (end - p < n || p[1] < lo || p[1] > hi) return 0;
    for (int i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF) return 0;
    return n;
}

static int hex4(const unsigned char *p, const unsigned char *end, unsigned *out) {
    if (end - p < 4) return 0;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= c - '0';
        else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
        else return 0;
    }
    *out = v;
    return 1;
}

static int put_utf8(Mem *m, unsigned cp) {
    unsigned char b[4];
    size_t n;
    if (cp < 0x80) { b[0] = (unsigned char)cp; n = 1; }
    else if (cp < 0x800) { b[0] = 0xC0 | (cp >> 6); b[1] = 0x80 | (cp & 0x3F); n = 2; }
    else if (cp < 0x10000) {
        b[0] = 0xE0 | (cp >> 12); b[1] = 0x80 | ((cp >> 6) & 0x3F); b[2] = 0x80 | (cp & 0x3F); n = 3;
    } else {
        b[0] = 0xF0 | (cp >> 18); b[1] = 0x80 | ((cp >> 12) & 0x3F);
        b[2] = 0x80 | ((cp >> 6) & 0x3F); b[3] = 0x80 | (cp & 0x3F); n = 4;
    }
    return mem_put(m, b, n);
}

/* A JSON string at s->p (after whitespace), decoded into out. */
static int parse_string(State *s, Mem *out) {
    skip_ws(s);
    NEED(s->p < s->end && *s->p == '"');
    const unsigned char *p = s->p + 1, *end = s->end;
    for (;;) {
        const unsigned char *run = p;
        while (p < end && PLAIN[*p]) p++;
        if (p > run) MEM(mem_put(out, run, (size_t)(p - run)));
        NEED(p < end);
        unsigned char c = *p;
        if (c == '"') break;
        NEED(c >= 0x20);  /* a raw control character is not JSON */
        if (c == '\\') {
            NEED(p + 1 < end);
            unsigned char e = p[1], lit;
            p += 2;
            switch (e) {
            case '"': lit = '"'; break;
            case '\\': lit = '\\'; break;
            case '/': lit = '/'; break;
            case 'b': lit = '\b'; break;
            case 'f': lit = '\f'; break;
            case 'n': lit = '\n'; break;
            case 'r': lit = '\r'; break;
            case 't': lit = '\t'; break;
            case 'u': {
                unsigned cp, low;
                NEED(hex4(p, end, &cp));
                p += 4;
                if (cp >= 0xDC00 && cp <= 0xDFFF) return UNCLEAN;  /* unpaired low surrogate */
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    NEED(end - p >= 6 && p[0] == '\\' && p[1] == 'u' && hex4(p + 2, end, &low));
                    NEED(low >= 0xDC00 && low <= 0xDFFF);
                    p += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                }
                MEM(put_utf8(out, cp));
                continue;
            }
            default: return UNCLEAN;
            }
            MEM(mem_put(out, &lit, 1));
        } else {  /* a multi-byte character */
            int n = utf8_len(p, end);
            NEED(n);
            MEM(mem_put(out, p, (size_t)n));
            p += n;
        }
    }
    s->p = p + 1;
    return CLEAN;
}

/* An object key without escapes (a key with escapes is never one of ours). */
static int parse_key(State *s, const unsigned char **key, size_t *len) {
    skip_ws(s);
    NEED(s->p < s->end && *s->p == '"');
    const unsigned char *start = s->p + 1, *p = start;
    while (p < s->end && PLAIN[*p]) p++;
    NEED(p < s->end && *p == '"');
    *key = start;
    *len = (size_t)(p - start);
    s->p = p + 1;
    NEED(expect(s, ':'));
    skip_ws(s);
    return CLEAN;
}

static inline int is_key(const unsigned char *key, size_t len, const char *name) {
    return strlen(name) == len && memcmp(key, name, len) == 0;
}

static int literal(State *s, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0) return 0;
    s->p += n;
    return 1;
}

/* Open an object or array: 1 if it has members (opener consumed), 0 if it is empty
 * (both brackets consumed), -1 if the next value is not one. */
static int open_container(State *s, unsigned char open, unsigned char close) {
    if (!expect(s, open)) return -1;
    skip_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return 0;
    }
    return 1;
}

/* Loop over the members of an object: the body dispatches on key[0:len]. */
#define FOR_MEMBERS(s, key, len, ...)                        \
    do {                                                      \
        int open_ = open_container(s, '{', '}');              \
        NEED(open_ >= 0);                                     \
        if (open_) {                                          \
            do {                                              \
                TRY(parse_key(s, &key, &len));                \
                __VA_ARGS__                                   \
            } while (expect(s, ','));                         \
            NEED(expect(s, '}'));                             \
        }                                                     \
    } while (0)

/* Loop over the elements of an array. */
#define FOR_ELEMENTS(s, ...)                                 \
    do {                                                      \
        int open_ = open_container(s, '[', ']');              \
        NEED(open_ >= 0);                                     \
        if (open_) {                                          \
            do {                                              \
                __VA_ARGS__                                   \
            } while (expect(s, ','));                         \
            NEED(expect(s, ']'));                             \
        }                                                     \
    } while (0)

/* Mark a member seen; a repeated member is not clean (orjson keeps the last one). */
#define SEEN(bit) do { NEED(!(seen & (bit))); seen |= (bit); } while (0)

static int is_e164(const unsigned char *p, size_t n) {
    if (n < 3 || n > 16 || p[0] != '+' || p[1] < '1' || p[1] > '9') return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < '0' || p[i] > '9') return 0;
    return 1;
}

/* A string or null into column c; returns 1 for a string, 0 for null, via *got. */
static int string_or_null(State *s, Str *c) {
    if (literal(s, "null")) return str_end(c, 0) ? NOMEM : CLEAN;
    TRY(parse_string(s, &c->data));
    return str_end(c, 1) ? NOMEM : CLEAN;
}

static int flag(State *s, Bool *b) {
    int v = literal(s, "true") ? 1 : literal(s, "false") ? 0 : literal(s, "null") ? -1 : -2;
    NEED(v != -2);
    return bool_push(b, v) ? NOMEM : CLEAN;
}

static int number_object(State *s) {
    const unsigned char *key;
    size_t len;
    unsigned seen = 0;
    FOR_MEMBERS(s, key, len, {
        if (is_key(key, len, "phoneNumber")) {
            SEEN(1);
            size_t start = s->phone.data.len;
            TRY(parse_string(s, &s->phone.data));
            NEED(is_e164(s->phone.data.p + start, s->phone.data.len - start));
            MEM(str_end(&s->phone, 1));
        } else if (is_key(key, len, "friendlyName")) {
            SEEN(2);
            TRY(string_or_null(s, &s->friendly));
        } else return UNCLEAN;
    });
    NEED(seen & 1);
    if (!(seen & 2)) MEM(str_end(&s->friendly, 0));
    s->numbers++;
    return CLEAN;
}

static int service_object(State *s) {
    const unsigned char *key;
    size_t len;
    unsigned seen = 0;
    if (literal(s, "null")) {
        MEM(str_end(&s->stype, 0) || str_end(&s->svalue, 0));
        return CLEAN;
    }
    FOR_MEMBERS(s, key, len, {
        if (is_key(key, len, "type")) {
            SEEN(1);
            size_t start = s->stype.data.len;
            TRY(parse_string(s, &s->stype.data));
            NEED(s->stype.data.len > start);
            MEM(str_end(&s->stype, 1));
        } else if (is_key(key, len, "value")) {
            SEEN(2);
            TRY(string_or_null(s, &s->svalue));
        } else return UNCLEAN;
    });
    NEED(seen & 1);
    if (!(seen & 2)) MEM(str_end(&s->svalue, 0));
    return CLEAN;
}

enum {
    P_ID = 1, P_LOC = 2, P_NAME = 4, P_NUMBERS = 8, P_FWD = 16, P_WHISPER = 32,
    P_MSG = 64, P_REC = 128, P_ACTIVE = 256, P_SERVICE = 512,
};

static int pool_object(State *s, int64_t file) {
    const unsigned char *key;
    size_t len;
    unsigned seen = 0;
    int64_t count = 0;
    unsigned char has_service = 0;
    FOR_MEMBERS(s, key, len, {
        if (is_key(key, len, "id") || is_key(key, len, "locationId")) {
            Str *c = len == 2 ? &s->id : &s->loc;
            SEEN(len == 2 ? P_ID : P_LOC);
            size_t start = c->data.len;
            TRY(parse_string(s, &c->data));
            NEED(c->data.len > start);
            MEM(str_end(c, 1));
        } else if (is_key(key, len, "name")) {
            SEEN(P_NAME);
            TRY(string_or_null(s, &s->name));
        } else if (is_key(key, len, "numbers")) {
            SEEN(P_NUMBERS);
            FOR_ELEMENTS(s, { TRY(number_object(s)); count++; });
        } else if (is_key(key, len, "forwardingNumber")) {
            SEEN(P_FWD);
            size_t start = s->fwd.data.len;
            if (literal(s, "null")) MEM(str_end(&s->fwd, 0));
            else {
                TRY(parse_string(s, &s->fwd.data));
                size_t n = s->fwd.data.len - start;
                NEED(n == 0 || is_e164(s->fwd.data.p + start, n));  /* "" means none */
                MEM(str_end(&s->fwd, n > 0));
            }
        } else if (is_key(key, len, "whisper")) {
            SEEN(P_WHISPER);
            TRY(flag(s, &s->whisper));
        } else if (is_key(key, len, "callRecording")) {
            SEEN(P_REC);
            TRY(flag(s, &s->rec));
        } else if (is_key(key, len, "isActive")) {
            SEEN(P_ACTIVE);
            TRY(flag(s, &s->active));
        } else if (is_key(key, len, "whisperMessage")) {
            SEEN(P_MSG);
            TRY(string_or_null(s, &s->msg));
        } else if (is_key(key, len, "inboundCallService")) {
            SEEN(P_SERVICE);
            has_service = s->p < s->end && *s->p == '{';
            TRY(service_object(s));
        } else return UNCLEAN;
    });
    NEED((seen & (P_ID | P_LOC | P_NUMBERS)) == (P_ID | P_LOC | P_NUMBERS));
    if (!(seen & P_NAME)) MEM(str_end(&s->name, 0));
    if (!(seen & P_FWD)) MEM(str_end(&s->fwd, 0));
    if (!(seen & P_WHISPER)) MEM(bool_push(&s->whisper, -1));
    if (!(seen & P_MSG)) MEM(str_end(&s->msg, 0));
    if (!(seen & P_REC)) MEM(bool_push(&s->rec, -1));
    if (!(seen & P_ACTIVE)) MEM(bool_push(&s->active, -1));
    if (!(seen & P_SERVICE)) MEM(str_end(&s->stype, 0) || str_end(&s->svalue, 0));
    MEM(mem_i64(&s->count, count) || mem_i64(&s->file, file) || mem_put(&s->has_service, &has_service, 1));
    s->pools++;
    return CLEAN;
}

/* One response: {"success": true, "data": [pools], "total": n}; success may be absent. */
static int response(State *s, int64_t file) {
    const unsigned char *key;
    size_t len;
    unsigned seen = 0;
    int64_t pools = 0, total = -1;
    FOR_MEMBERS(s, key, len, {
        if (is_key(key, len, "success")) {
            SEEN(1);
            NEED(literal(s, "true") || literal(s, "null"));
        } else if (is_key(key, len, "data")) {
            SEEN(2);
            FOR_ELEMENTS(s, { TRY(pool_object(s, file)); pools++; });
        } else if (is_key(key, len, "total")) {
            SEEN(4);
            const unsigned char *digits = s->p;
            total = 0;
            while (s->p < s->end && *s->p >= '0' && *s->p <= '9' && s->p - digits < 18)
                total = total * 10 + (*s->p++ - '0');
            NEED(s->p > digits && (s->p - digits == 1 || *digits != '0'));
            NEED(s->p >= s->end || (*s->p != '.' && *s->p != 'e' && *s->p != 'E' && !(*s->p >= '0' && *s->p <= '9')));
        } else return UNCLEAN;
    });
    NEED((seen & 6) == 6 && total == pools);
    skip_ws(s);
    NEED(s->p == s->end);
    return CLEAN;
}

static int parse_lines(State *s, const unsigned char *data, size_t size, int64_t files) {
    const unsigned char *p = data, *end = data + size;
    int64_t file = 0;
    for (; p < end; file++) {
        const unsigned char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) eol = end;
        NEED(file < files);
        s->p = p;
        s->end = eol;
        TRY(response(s, file));
        p = eol + 1;
    }
    NEED(file == files);
    return CLEAN;
}

/* --------------------------------------------------------------- reading */

/* Read one file into buf[pos:cap]; return the end of its trimmed one-line object, or 0
 * if the file cannot be read, is not a one-line object, or does not fit (*too_big). */
static size_t read_one(const char *path, unsigned char *buf, size_t pos, size_t cap, int *too_big) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    size_t end = pos;
    ssize_t got = 0;
    while (end < cap && ((got = read(fd, buf + end, cap - end)) > 0 || (got < 0 && errno == EINTR)))
        end += got > 0 ? (size_t)got : 0;
    close(fd);
    *too_big = end == cap;  /* no room left for the rest, or for the line's newline */
    if (*too_big || got < 0) return 0;
    while (end > pos && (buf[end - 1] == ' ' || buf[end - 1] == '\t' || buf[end - 1] == '\r' || buf[end - 1] == '\n'))
        end--;
    if (end - pos < 2 || buf[pos] != '{' || buf[end - 1] != '}'
        || memchr(buf + pos, '\n', end - pos) || memchr(buf + pos, '\r', end - pos))
        return 0;
    return end;
}

static PyObject *read_lines(PyObject *Py_UNUSED(module), PyObject *args) {
    PyObject *names;
    Py_ssize_t first, limit;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "O!nw*n", &PyList_Type, &names, &first, &view, &limit)) return NULL;
    Py_ssize_t count = PyList_GET_SIZE(names);
    if (first < 0 || first > count) {
        PyBuffer_Release(&view);
        return PyErr_Format(PyExc_IndexError, "first=%zd is outside the %zd names", first, count);
    }
    PyObject **paths = PyMem_Calloc((size_t)(count - first) + 1, sizeof *paths);
    if (!paths) {
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    Py_ssize_t stop = count;  /* a path that is not clean text stops the batch there */
    for (Py_ssize_t i = first; i < count; i++) {
        PyObject *path = PyUnicode_EncodeFSDefault(PyList_GET_ITEM(names, i));
        if (!path || (Py_ssize_t)strlen(PyBytes_AS_STRING(path)) != PyBytes_GET_SIZE(path)) {
            PyErr_Clear();
            Py_XDECREF(path);
            stop = i;
            break;
        }
        paths[i - first] = path;
    }
    unsigned char *buf = view.buf;
    size_t cap = (size_t)view.len, pos = 0;
    Py_ssize_t next = first;
    int full = 0;
    Py_BEGIN_ALLOW_THREADS
    for (; next < stop; next++) {
        if (pos >= (size_t)limit) { full = 1; break; }
        int too_big = 0;
        size_t end = read_one(PyBytes_AS_STRING(paths[next - first]), buf, pos, cap, &too_big);
        if (!end) {  /* a file too big for what is left is tried again in an empty buffer */
            full = too_big && pos > 0;
            break;
        }
        buf[end] = '\n';
        pos = end + 1;
    }
    if (next == count) full = 1;
    Py_END_ALLOW_THREADS
    for (Py_ssize_t i = first; i < stop; i++) Py_DECREF(paths[i - first]);
    PyMem_Free(paths);
    PyBuffer_Release(&view);
    return Py_BuildValue("(nnO)", next, (Py_ssize_t)pos, full ? Py_True : Py_False);
}

/* --------------------------------------------------------------- Python side */

static void state_free(State *s) {
    Str *strs[] = {&s->loc, &s->id, &s->name, &s->fwd, &s->msg, &s->stype, &s->svalue, &s->phone, &s->friendly};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) {
        free(strs[i]->valid.p); free(strs[i]->offsets.p); free(strs[i]->data.p);
    }
    Bool *bools[] = {&s->whisper, &s->rec, &s->active};
    for (size_t i = 0; i < 3; i++) { free(bools[i]->valid.p); free(bools[i]->values.p); }
    free(s->count.p); free(s->file.p); free(s->has_service.p);
}

/* (validity or None, offsets, data, null count) */
static PyObject *give_str(Str *c) {
    PyObject *valid = c->nulls ? mem_give(&c->valid) : (Py_INCREF(Py_None), Py_None);
    return Py_BuildValue("(NNNL)", valid, mem_give(&c->offsets), mem_give(&c->data), (long long)c->nulls);
}

static PyObject *give_bool(Bool *b) {
    PyObject *valid = b->nulls ? mem_give(&b->valid) : (Py_INCREF(Py_None), Py_None);
    return Py_BuildValue("(NNL)", valid, mem_give(&b->values), (long long)b->nulls);
}

static PyObject *parse(PyObject *Py_UNUSED(module), PyObject *args) {
    PyObject *source;
    Py_ssize_t files;
    if (!PyArg_ParseTuple(args, "On", &source, &files)) return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(source, &view, PyBUF_SIMPLE)) return NULL;
    State s;
    memset(&s, 0, sizeof s);
    int rc = CLEAN;
    Str *strs[] = {&s.loc, &s.id, &s.name, &s.fwd, &s.msg, &s.stype, &s.svalue, &s.phone, &s.friendly};
    for (size_t i = 0; i < sizeof strs / sizeof *strs && rc == CLEAN; i++)
        if (str_init(strs[i])) rc = NOMEM;
    if (rc == CLEAN) {
        Py_BEGIN_ALLOW_THREADS
        rc = parse_lines(&s, view.buf, (size_t)view.len, files);
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&view);
    PyObject *out = NULL;
    if (rc == NOMEM) PyErr_NoMemory();
    else if (rc == UNCLEAN) out = (Py_INCREF(Py_None), Py_None);
    else out = Py_BuildValue(
        "{sLsLsNsNsNsNsNsNsNsNsNsNsNsNsNsNsN}",
        "pools", (long long)s.pools, "numbers", (long long)s.numbers,
        "location_id", give_str(&s.loc), "pool_id", give_str(&s.id), "name", give_str(&s.name),
        "forwarding_number", give_str(&s.fwd), "whisper", give_bool(&s.whisper),
        "whisper_message", give_str(&s.msg), "call_recording", give_bool(&s.rec),
        "is_active", give_bool(&s.active), "service_type", give_str(&s.stype),
        "service_value", give_str(&s.svalue), "number_count", mem_give(&s.count),
        "file", mem_give(&s.file), "has_service", mem_give(&s.has_service),
        "phone_number", give_str(&s.phone), "friendly_name", give_str(&s.friendly));
    state_free(&s);
    return out;
}

static PyMethodDef methods[] = {
    {"read_lines", read_lines, METH_VARARGS,
     "read_lines(names, first, buffer, limit) -> (next, size, full)\n\n"
     "Read files names[first:] into ``buffer``, each as one line, until it holds ``limit`` bytes.\n"
     "Stops before a file that cannot be read, is not a one-line JSON object, or does not fit;\n"
     "``full`` is false when that file is left to the caller (it would not fit even alone)."},
    {"parse", parse, METH_VARARGS,
     "parse(lines, files) -> dict of Arrow column buffers, or None if any response is not clean.\n\n"
     "``lines`` holds ``files`` one-line JSON responses, each ended by a newline."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_fastjson",
    .m_doc = "Strict parser of one-line number-pool responses into Arrow buffers.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__fastjson(void) {
    init_tables();
    if (PyType_Ready(&OwnedType) < 0) return NULL;
    return PyModule_Create(&module);
}
