/*
 * fann_driver.c — FANN 2.2.0 (Debian's libfann-dev) trained as a FANN user
 * trains it, for bench/fann-suite: fann_create_standard, the default
 * training algorithm (iRPROP−, batch), fann_train_on_data for a fixed number
 * of epochs. Prints one JSON line with the figures measured the way backprop
 * measures them (eval's mse_fann and bit_fail), so the two sides are counted
 * alike, and FANN's own fann_test_data figures beside them.
 *
 *   fann_driver TRAIN TEST HIDDEN EPOCHS SEED
 *
 * Built by bench/fann-suite, never by the project's build: FANN is a
 * dependency of this benchmark only.
 */
#define _POSIX_C_SOURCE 200809L
#include <floatfann.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: fann_driver TRAIN TEST HIDDEN EPOCHS SEED\n");
        return 1;
    }
    int hidden = atoi(argv[3]), epochs = atoi(argv[4]);
    struct fann_train_data *train = fann_read_train_from_file(argv[1]);
    struct fann_train_data *test = fann_read_train_from_file(argv[2]);
    if (!train || !test || hidden < 1 || epochs < 1) {
        fprintf(stderr, "fann_driver: cannot read %s or %s, or bad sizes\n", argv[1], argv[2]);
        return 1;
    }
    unsigned n_in = fann_num_input_train_data(train), n_out = fann_num_output_train_data(train);
    struct fann *ann = fann_create_standard(3, n_in, (unsigned)hidden, n_out);
    if (!ann)
        return 1;
    /* tanh hidden units (FANN's symmetric sigmoid) like backprop's recipe,
     * sigmoid outputs; weights in FANN's default (-0.1, 0.1), seeded */
    fann_set_activation_function_hidden(ann, FANN_SIGMOID_SYMMETRIC);
    fann_set_activation_function_output(ann, FANN_SIGMOID);
    srand((unsigned)atoi(argv[5]));
    fann_randomize_weights(ann, -0.1f, 0.1f);

    double t0 = now();
    fann_train_on_data(ann, train, (unsigned)epochs, 0, 0.0f); /* no reports, all epochs */
    double secs = now() - t0;

    /* FANN's MSE is the mean over examples and outputs of (t − y)²; counted
     * here as backprop's eval counts it, with FANN's 0.35 bit-fail limit */
    unsigned n = fann_length_train_data(test);
    double sq = 0;
    long bit_fail = 0, correct = 0;
    for (unsigned i = 0; i < n; i++) {
        fann_type *y = fann_run(ann, test->input[i]), *t = test->output[i];
        unsigned best = 0, want = 0;
        for (unsigned j = 0; j < n_out; j++) {
            double e = (double)t[j] - y[j];
            sq += e * e;
            bit_fail += fabs(e) > 0.35;
            if (y[j] > y[best])
                best = j;
            if (t[j] > t[want])
                want = j;
        }
        correct += best == want;
    }
    float own_mse = fann_test_data(ann, test); /* FANN's own figure, for the record */
    printf("{\"seconds\": %.6f, \"test_mse_fann\": %.9g, \"test_bit_fail\": %ld, "
           "\"test_argmax_match\": %.9g, \"fann_test_data_mse\": %.9g}\n",
           secs, sq / ((double)n * n_out), bit_fail, (double)correct / n, (double)own_mse);
    fann_destroy(ann);
    fann_destroy_train(train);
    fann_destroy_train(test);
    return 0;
}
