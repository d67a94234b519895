/*
 * explain_out.c — the one writer behind explain's derivation. Formulas are
 * written once, in a small markup, and rendered two ways:
 *   - text: Unicode for a terminal (δ₁⁽²⁾, ∂𝓛/∂w₁₂⁽⁰⁾), wrapped at 100 columns;
 *   - HTML: MathML, which current browsers typeset without any script.
 *
 * The markup: x_{ij} and x^{(l)} (a single character needs no braces),
 * \b{W} for the note's bold vectors and matrices, \t{text} for words inside
 * a formula; Greek letters, 𝓛, ∂, Σ, ⊙, ·, −, ′ and ← as UTF-8. A '-'
 * directly before a digit belongs to the number.
 *
 * Deliberately not a TeX parser: no fractions, no nesting beyond scripts.
 */
#include "explain.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define WIDTH 100 /* columns of a terminal line */

/* ------------------------------------------------------------------------ */
/* Output primitives                                                         */
/* ------------------------------------------------------------------------ */

static void put(ex_out *o, const char *s, size_t n)
{
    if (!o->html) {
        fwrite(s, 1, n, o->f);
        return;
    }
    if (o->failed)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (o->len + n + 1 > cap)
            cap *= 2;
        char *b = realloc(o->buf, cap);
        if (!b) {
            o->failed = 1;
            return;
        }
        o->buf = b, o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void puts_(ex_out *o, const char *s) { put(o, s, strlen(s)); }

static void vraw(ex_out *o, const char *fmt, va_list ap)
{
    char small[1024];
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n >= 0 && (size_t)n < sizeof small)
        put(o, small, (size_t)n);
    else if (n >= 0) {
        char *big = malloc((size_t)n + 1);
        if (big) {
            vsnprintf(big, (size_t)n + 1, fmt, cp);
            put(o, big, (size_t)n);
            free(big);
        } else
            o->failed = 1;
    }
    va_end(cp);
}

void ex_raw(ex_out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vraw(o, fmt, ap);
    va_end(ap);
}

/* HTML-escaped text */
static void put_esc(ex_out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        switch (s[i]) {
        case '<':
            puts_(o, "&lt;");
            break;
        case '>':
            puts_(o, "&gt;");
            break;
        case '&':
            puts_(o, "&amp;");
            break;
        case '"':
            puts_(o, "&quot;");
            break;
        default:
            put(o, s + i, 1);
        }
}

const char *ex_num(ex_out *o, double v)
{
    char *s = o->num[o->num_next];
    o->num_next = (o->num_next + 1) % 16;
    if (v == 0)
        v = 0; /* turns −0 into 0 */
    snprintf(s, sizeof o->num[0], "%.*g", o->digits, v);
    if (strcmp(s, "-0") == 0)
        strcpy(s, "0");
    return s;
}

/* ------------------------------------------------------------------------ */
/* Building a line of markup                                                 */
/* ------------------------------------------------------------------------ */

void ex_add(ex_line *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (b->n < sizeof b->s) {
        int k = vsnprintf(b->s + b->n, sizeof b->s - b->n, fmt, ap);
        b->n = k < 0 ? b->n : b->n + (size_t)k >= sizeof b->s ? sizeof b->s - 1 : b->n + (size_t)k;
    }
    va_end(ap);
}

/* A factor in a product: negative numbers in brackets. */
const char *ex_fac(ex_out *o, double v)
{
    const char *s = ex_num(o, v);
    if (*s != '-')
        return s;
    char *p = o->num[(o->num_next + 15) % 16];
    memmove(p + 1, p, strlen(p) + 1);
    p[0] = '(';
    strcat(p, ")");
    return p;
}

/* Subscripts of two indices: "12", or "1,12" when one is past 9 (1-based). */
const char *ex_ij(char buf[24], int i, int j)
{
    snprintf(buf, 24, i > 9 || j > 9 ? "%d,%d" : "%d%d", i, j);
    return buf;
}

const char *ex_ik(char buf[24], char letter, int n, int letter_first)
{
    const char *sep = n > 9 ? "," : "";
    if (letter_first)
        snprintf(buf, 24, "%c%s%d", letter, sep, n);
    else
        snprintf(buf, 24, "%d%s%c", n, sep, letter);
    return buf;
}

/* "[a, b, c]" of n values at v[k*stride] */
void ex_vec(ex_out *o, ex_line *b, const double *v, int n, size_t stride)
{
    ex_add(b, "[");
    for (int k = 0; k < n; k++)
        ex_add(b, "%s%s", k ? ", " : "", ex_num(o, v[(size_t)k * stride]));
    ex_add(b, "]");
}

/* ------------------------------------------------------------------------ */
/* Markup to Unicode text                                                    */
/* ------------------------------------------------------------------------ */

/* Length of the UTF-8 character at s (1 for a stray byte). */
static int u8len(const char *s)
{
    unsigned char c = (unsigned char)*s;
    int n = c < 0x80 ? 1 : c >> 5 == 6 ? 2 : c >> 4 == 14 ? 3 : c >> 3 == 30 ? 4 : 1;
    for (int i = 1; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            return 1;
    return n;
}

/* The Unicode sub- or superscript of one character, or NULL. */
static const char *script_char(const char *s, int n, int sup)
{
    static const char *sub_d[] = {"₀", "₁", "₂", "₃", "₄", "₅", "₆", "₇", "₈", "₉"};
    static const char *sup_d[] = {"⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"};
    if (n == 3 && memcmp(s, "−", 3) == 0)
        return sup ? "⁻" : "₋";
    if (n != 1)
        return NULL;
    char c = *s;
    if (c >= '0' && c <= '9')
        return sup ? sup_d[c - '0'] : sub_d[c - '0'];
    static const char *sub_c = "ijklmntx(),+", *sup_c = "ijklnTLMz()+-=";
    static const char *sub_u[] = {"ᵢ", "ⱼ", "ₖ", "ₗ", "ₘ", "ₙ", "ₜ", "ₓ", "₍", "₎", ",", "₊"};
    static const char *sup_u[] = {"ⁱ", "ʲ", "ᵏ", "ˡ", "ⁿ", "ᵀ", "ᴸ",
                                  "ᴹ", "ᶻ", "⁽", "⁾", "⁺", "⁻", "⁼"};
    const char *k = strchr(sup ? sup_c : sub_c, c);
    if (!k || !c)
        return NULL;
    return sup ? sup_u[k - sup_c] : sub_u[k - sub_c];
}

/* p at '{': the matching '}' (or the end) */
static const char *group_close(const char *p)
{
    int depth = 0;
    for (; *p; p++) {
        if (*p == '{')
            depth++;
        else if (*p == '}' && --depth == 0)
            return p;
    }
    return p;
}

/* Renders markup [p, end) as Unicode text into out (cap bytes). */
static void text_render(const char *p, const char *end, char *out, size_t cap, size_t *len)
{
#define EMIT(s, n)                                                                                 \
    do {                                                                                           \
        if (*len + (n) < cap) {                                                                    \
            memcpy(out + *len, (s), (n));                                                          \
            *len += (n);                                                                           \
        }                                                                                          \
    } while (0)
    while (p < end) {
        if ((*p == '_' || *p == '^') && p + 1 < end) {
            int sup = *p == '^';
            const char *a = p + 1, *b;
            if (*a == '{') {
                b = group_close(a);
                a++;
            } else
                b = a + u8len(a);
            int all = 1;
            for (const char *q = a; q < b; q += u8len(q))
                all &= script_char(q, u8len(q), sup) != NULL;
            if (all)
                for (const char *q = a; q < b; q += u8len(q)) {
                    const char *s = script_char(q, u8len(q), sup);
                    EMIT(s, strlen(s));
                }
            else {
                EMIT(p, 1);
                if (b - a > 1)
                    EMIT("(", 1);
                text_render(a, b, out, cap, len);
                if (b - a > 1)
                    EMIT(")", 1);
            }
            p = *b == '}' ? b + 1 : b;
        } else if (*p == '\\' && (p[1] == 'b' || p[1] == 't') && p[2] == '{') {
            const char *b = group_close(p + 2);
            text_render(p + 3, b, out, cap, len);
            p = *b ? b + 1 : b;
        } else {
            int n = u8len(p);
            EMIT(p, (size_t)n);
            p += n;
        }
    }
    out[*len] = '\0';
#undef EMIT
}

/* Display columns of UTF-8 text: one per character. */
static int columns(const char *s, size_t n)
{
    int c = 0;
    for (size_t i = 0; i < n; i += (size_t)u8len(s + i))
        c++;
    return c;
}

/* Writes indent + s, wrapped at spaces to WIDTH columns; continuation lines
 * are indented further. suffix goes on the last line. */
static void text_wrapped(ex_out *o, int indent, const char *s, const char *suffix)
{
    int col = indent, first = 1, sl = columns(suffix, strlen(suffix));
    fprintf(o->f, "%*s", indent, "");
    while (*s) {
        /* the next word, with the spaces before it */
        const char *w = s;
        while (*w == ' ')
            w++;
        const char *e = w;
        for (;;) {
            while (*e && *e != ' ')
                e++;
            /* "eq. 26" and "ф. 26" stay on one line */
            if (*e == ' ' && ((e - w >= 3 && memcmp(e - 3, "eq.", 3) == 0) ||
                              (e - w >= 3 && memcmp(e - 3, "ф.", 3) == 0)))
                e++;
            else
                break;
        }
        int wc = columns(s, (size_t)(e - s)), last = !*e;
        if (!first && col + wc + (last ? sl : 0) > WIDTH) {
            fprintf(o->f, "\n%*s", indent + 4, "");
            col = indent + 4;
            s = w;
            wc = columns(s, (size_t)(e - s));
        }
        fwrite(s, 1, (size_t)(e - s), o->f);
        col += wc;
        first = 0;
        s = e;
    }
    if (col + sl > WIDTH && sl)
        fprintf(o->f, "\n%*s", WIDTH - sl, "");
    fprintf(o->f, "%s\n", suffix);
}

/* ------------------------------------------------------------------------ */
/* Markup to MathML                                                          */
/* ------------------------------------------------------------------------ */

static int is_word(const char *p, size_t n)
{
    static const char *words[] = {"softmax", "max", "log", "exp", "sign", NULL};
    for (int i = 0; words[i]; i++)
        if (strlen(words[i]) == n && memcmp(words[i], p, n) == 0)
            return 1;
    return 0;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* The end of the atom at p (p not at a script mark). */
static const char *atom_end(const char *p, const char *end)
{
    if (*p == '\\' && p + 2 < end && p[2] == '{')
        return group_close(p + 2) + 1;
    if (*p == '{')
        return group_close(p) + 1;
    if (is_digit(*p) || ((*p == '-' || *p == '.') && p + 1 < end && is_digit(p[1]))) {
        const char *q = p + 1;
        while (q < end && (is_digit(*q) || *q == '.'))
            q++;
        if (q + 1 < end && (*q == 'e' || *q == 'E') &&
            (is_digit(q[1]) || ((q[1] == '-' || q[1] == '+') && q + 2 < end && is_digit(q[2])))) {
            q += 2;
            while (q < end && is_digit(*q))
                q++;
        }
        return q;
    }
    if (is_alpha(*p)) {
        const char *q = p;
        while (q < end && is_alpha(*q))
            q++;
        return is_word(p, (size_t)(q - p)) ? q : p + 1;
    }
    return p + u8len(p);
}

static void mathml_seq(ex_out *o, const char *p, const char *end);

/* Greek letters and 𝓛 are identifiers; other symbols are operators. */
static void mathml_atom(ex_out *o, const char *p, const char *e)
{
    if (*p == '\\') {
        const char *in = p + 3, *close = e - 1;
        if (p[1] == 'b') {
            puts_(o, "<mi mathvariant=\"bold\">");
            put_esc(o, in, (size_t)(close - in));
            puts_(o, "</mi>");
        } else {
            puts_(o, "<mtext>");
            put_esc(o, in, (size_t)(close - in));
            puts_(o, "</mtext>");
        }
    } else if (*p == '{') {
        puts_(o, "<mrow>");
        mathml_seq(o, p + 1, e - 1);
        puts_(o, "</mrow>");
    } else if (is_digit(*p) || *p == '-' || *p == '.') {
        puts_(o, "<mn>");
        put_esc(o, p, (size_t)(e - p));
        puts_(o, "</mn>");
    } else if (is_alpha(*p)) {
        puts_(o, "<mi>");
        put_esc(o, p, (size_t)(e - p));
        puts_(o, "</mi>");
    } else {
        unsigned char c0 = (unsigned char)p[0], c1 = (unsigned char)p[1];
        /* Greek letters name values, but Σ is the sum operator */
        int greek = ((c0 == 0xCE && c1 >= 0x91) || (c0 == 0xCF && c1 <= 0x89)) &&
                    !(c0 == 0xCE && c1 == 0xA3);
        int script_l = e - p == 4 && memcmp(p, "𝓛", 4) == 0;
        int partial = e - p == 3 && memcmp(p, "∂", 3) == 0;
        int bracket = e - p == 1 && strchr("()[]", *p);
        puts_(o, greek || script_l || partial ? "<mi>"
                 : bracket                    ? "<mo stretchy=\"false\">"
                                              : "<mo>");
        put_esc(o, p, (size_t)(e - p));
        puts_(o, greek || script_l || partial ? "</mi>" : "</mo>");
    }
}

/* The extent of the script after p[0] in {'_', '^'}: [*a, *b), returns after it. */
static const char *script(const char *p, const char *end, const char **a, const char **b)
{
    const char *s = p + 1;
    if (s < end && *s == '{') {
        *a = s + 1;
        *b = group_close(s);
        return *b < end ? *b + 1 : end;
    }
    *a = s;
    *b = s < end ? atom_end(s, end) : s;
    return *b;
}

static void mathml_seq(ex_out *o, const char *p, const char *end)
{
    while (p < end) {
        if (*p == ' ') {
            p++;
            continue;
        }
        const char *e = atom_end(p, end), *sa = NULL, *sb = NULL, *pa = NULL, *pb = NULL;
        const char *next = e;
        for (int k = 0; k < 2 && next < end && (*next == '_' || *next == '^'); k++) {
            if (*next == '_' && !sa)
                next = script(next, end, &sa, &sb);
            else if (*next == '^' && !pa)
                next = script(next, end, &pa, &pb);
            else
                break;
        }
        const char *tag = sa && pa ? "msubsup" : sa ? "msub" : pa ? "msup" : NULL;
        if (tag)
            ex_raw(o, "<%s>", tag);
        mathml_atom(o, p, e);
        if (sa) {
            puts_(o, "<mrow>");
            mathml_seq(o, sa, sb);
            puts_(o, "</mrow>");
        }
        if (pa) {
            puts_(o, "<mrow>");
            mathml_seq(o, pa, pb);
            puts_(o, "</mrow>");
        }
        if (tag)
            ex_raw(o, "</%s>", tag);
        p = next;
    }
}

void ex_mathml(ex_out *o, const char *markup, int display)
{
    ex_raw(o, "<math%s>", display ? " display=\"block\"" : "");
    mathml_seq(o, markup, markup + strlen(markup));
    puts_(o, "</math>");
}

/* ------------------------------------------------------------------------ */
/* Lines                                                                     */
/* ------------------------------------------------------------------------ */

void ex_section(ex_out *o, const char *title)
{
    if (o->html) {
        puts_(o, "<h3>");
        put_esc(o, title, strlen(title));
        puts_(o, "</h3>\n");
    } else
        fprintf(o->f, "\n%s\n", title);
}

void ex_text(ex_out *o, const char *fmt, ...)
{
    char s[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s, sizeof s, fmt, ap);
    va_end(ap);
    if (o->html) {
        puts_(o, "<p>");
        put_esc(o, s, strlen(s));
        puts_(o, "</p>\n");
    } else
        text_wrapped(o, 2, s, "");
}

/* "eq. 26" / "ф. 26"; '+' marks a step beyond the note */
static void cite_text(ex_out *o, const char *cite, char *out, size_t cap)
{
    if (!*cite)
        *out = '\0';
    else if (*cite == '+')
        snprintf(out, cap, "%s%s%s", EX_TR(o, "beyond the note", "вне конспекта"),
                 cite[1] ? EX_TR(o, "; from eq. ", "; из ф. ") : "", cite + 1);
    else
        snprintf(out, cap, "%s %s", EX_TR(o, "eq.", "ф."), cite);
}

void ex_eq(ex_out *o, const char *cite, const char *fmt, ...)
{
    char m[4096], c[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    cite_text(o, cite, c, sizeof c);
    if (o->html) {
        /* MathML does not wrap a long line: one <math> per side of each
         * top-level " = ", so that the browser may break between them */
        puts_(o, "<div class=\"eq\"><span class=\"m\">");
        const char *p = m;
        for (int first = 1;; first = 0) {
            const char *q = p;
            int depth = 0;
            for (; *q; q++) {
                depth += *q == '{' ? 1 : *q == '}' ? -1 : 0;
                if (depth == 0 && strncmp(q, " = ", 3) == 0)
                    break;
            }
            puts_(o, first ? "<math>" : " <math><mo>=</mo>");
            mathml_seq(o, p, q);
            puts_(o, "</math>");
            if (!*q)
                break;
            p = q + 3;
        }
        puts_(o, "</span>");
        if (*c) {
            ex_raw(o, "<span class=\"cite%s\">", *cite == '+' ? " beyond" : "");
            put_esc(o, c, strlen(c));
            puts_(o, "</span>");
        }
        puts_(o, "</div>\n");
        return;
    }
    char t[8192], suffix[160];
    size_t len = 0;
    text_render(m, m + strlen(m), t, sizeof t, &len);
    snprintf(suffix, sizeof suffix, *c ? "   (%s)" : "%s", c);
    text_wrapped(o, 2, t, suffix);
}

void ex_matrix(ex_out *o, const char *name, const double *a, int rows, int cols, size_t rs,
               size_t cs)
{
    if (o->html) {
        puts_(o, "<div class=\"eq\"><math display=\"block\">");
        mathml_seq(o, name, name + strlen(name));
        puts_(o, "<mo>=</mo><mrow><mo>[</mo><mtable>");
        for (int r = 0; r < rows; r++) {
            puts_(o, "<mtr>");
            for (int c = 0; c < cols; c++)
                ex_raw(o, "<mtd><mn>%s</mn></mtd>", ex_num(o, a[(size_t)r * rs + (size_t)c * cs]));
            puts_(o, "</mtr>");
        }
        puts_(o, "</mtable><mo>]</mo></mrow></math></div>\n");
        return;
    }
    char t[512];
    size_t len = 0;
    text_render(name, name + strlen(name), t, sizeof t, &len);
    int w = 1;
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            int k = (int)strlen(ex_num(o, a[(size_t)r * rs + (size_t)c * cs]));
            w = k > w ? k : w;
        }
    int per = (WIDTH - 8) / (w + 2);
    per = per < 1 ? 1 : per;
    fprintf(o->f, "  %s =\n", t);
    for (int c0 = 0; c0 < cols; c0 += per) {
        int c1 = c0 + per < cols ? c0 + per : cols;
        if (cols > per)
            fprintf(o->f, "    %s %d–%d\n", EX_TR(o, "columns", "столбцы"), c0 + 1, c1);
        for (int r = 0; r < rows; r++) {
            fprintf(o->f, "    [");
            for (int c = c0; c < c1; c++)
                fprintf(o->f, "  %*s", w, ex_num(o, a[(size_t)r * rs + (size_t)c * cs]));
            fprintf(o->f, " ]\n");
        }
    }
}
