/* own_symbols.c — a program whose own functions have the names of the
 * library's internal ones. Linked with examples/xor.c statically against
 * libbackprop.a (tests/test_link.sh): the link must succeed, these must be
 * the ones the program calls, and the library must still call its own. */
#include <stdio.h>
#include <stdlib.h>

int gemm(int a, int b) { return a * b; }
const char *pool_create(void) { return "the program's pool_create"; }
double act_forward(double x) { return 2 * x; }

__attribute__((constructor)) static void check_own(void)
{
    if (gemm(6, 7) != 42 || act_forward(1.5) != 3.0 || pool_create()[4] != 'p') {
        fprintf(stderr, "own_symbols: the program's own functions were not called\n");
        exit(1);
    }
}
