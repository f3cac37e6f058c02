/* Ground truth for the Darknet parity test: runs Debian's libdarknet on a
 * cfg with seeded random parameters and dumps every layer's output.
 *
 *   darknet_parity_harness CFG IMAGE SIZE SEED OUT_DIR
 *
 * Writes OUT_DIR/model.weights (Darknet's own save_weights), OUT_DIR/input.npy
 * (the letterboxed image, [1,3,H,W]) and OUT_DIR/layer_NNN.npy for each layer
 * ([1,C,H,W] float32; a [yolo] layer's file is its part-activated output).
 * SIZE 0 keeps the cfg's width and height; otherwise the network is resized
 * to SIZE x SIZE with resize_network.
 *
 * Parameters are not Darknet's fresh init (BN mean 0, variance 0 or 1 would
 * make batch norm nearly the identity, and activations would grow or vanish
 * through 75 convs). Instead each conv gets He-scaled weights, and its BN
 * statistics are calibrated on this very image: the layer is run once with
 * identity BN and a linear activation, its per-channel mean and variance are
 * measured, and the rolling statistics are set near those values with random
 * perturbations, scales and shifts. Activations then stay of order one
 * through the whole network, and every BN term matters. */
#include <darknet.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Exported by libdarknet but not declared in darknet.h. */
image load_image_stb(char *filename, int channels);

static uint64_t rng_state;

/* splitmix64: tiny, seedable, and the same on every platform. */
static uint64_t next_u64(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static double uniform(double lo, double hi) { return lo + (hi - lo) * ((next_u64() >> 11) * (1.0 / 9007199254740992.0)); }

static double normal(void) {
  const double u1 = uniform(1e-12, 1.0), u2 = uniform(0.0, 1.0);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static void write_npy(const char *path, const float *data, int c, int h, int w) {
  char header[128];
  int len = snprintf(header, sizeof header, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, %d, %d, %d), }",
                     c, h, w);
  const int total = ((10 + len + 1 + 63) / 64) * 64; /* magic+version+len field, header, '\n', padded */
  while (10 + len + 1 < total) header[len++] = ' ';
  header[len++] = '\n';
  FILE *f = fopen(path, "wb");
  if (!f) {
    fprintf(stderr, "cannot write %s\n", path);
    exit(1);
  }
  const unsigned char magic[8] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  const unsigned char hl[2] = {(unsigned char)(len & 0xff), (unsigned char)(len >> 8)};
  fwrite(magic, 1, 8, f);
  fwrite(hl, 1, 2, f);
  fwrite(header, 1, (size_t)len, f);
  fwrite(data, sizeof(float), (size_t)c * h * w, f);
  fclose(f);
}

/* He-scaled weights, and biases/BN parameters calibrated on the layer's
 * pre-BN output for this input (see the top of the file). */
static void fill_conv(layer *l, network *net) {
  const int per_filter = l->c / l->groups * l->size * l->size;
  const double std = sqrt(2.0 / per_filter);
  for (int i = 0; i < l->nweights; ++i) l->weights[i] = (float)(std * normal());
  if (!l->batch_normalize) {
    for (int i = 0; i < l->n; ++i) l->biases[i] = (float)(0.1 * normal());
    return;
  }
  for (int i = 0; i < l->n; ++i) {
    l->scales[i] = 1;
    l->biases[i] = 0;
    l->rolling_mean[i] = 0;
    l->rolling_variance[i] = 1;
  }
  layer probe = *l;
  probe.activation = LINEAR;
  probe.forward(probe, *net);
  const int plane = l->out_h * l->out_w;
  double mean_var = 0;
  double *mean = calloc((size_t)l->n, sizeof(double)), *var = calloc((size_t)l->n, sizeof(double));
  for (int k = 0; k < l->n; ++k) {
    const float *x = l->output + (size_t)k * plane;
    double s = 0, ss = 0;
    for (int i = 0; i < plane; ++i) s += x[i];
    mean[k] = s / plane;
    for (int i = 0; i < plane; ++i) ss += (x[i] - mean[k]) * (x[i] - mean[k]);
    var[k] = ss / plane;
    mean_var += var[k] / l->n;
  }
  for (int k = 0; k < l->n; ++k) {
    /* A floor keeps nearly constant channels from a 1e6 gain. */
    const double v = var[k] > 0.01 * mean_var ? var[k] : 0.01 * mean_var + 1e-6;
    l->rolling_mean[k] = (float)(mean[k] + 0.2 * sqrt(v) * normal());
    l->rolling_variance[k] = (float)(v * uniform(0.5, 2.0));
    l->scales[k] = (float)uniform(0.5, 1.5);
    l->biases[k] = (float)(0.2 * normal());
  }
  free(mean);
  free(var);
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s CFG IMAGE SIZE SEED OUT_DIR\n", argv[0]);
    return 2;
  }
  const int size = atoi(argv[3]);
  rng_state = strtoull(argv[4], NULL, 10);
  const char *out_dir = argv[5];

  network *net = parse_network_cfg(argv[1]);
  set_batch_network(net, 1);
  if (size > 0) resize_network(net, size, size);

  image im = load_image_stb(argv[2], 3);
  image sized = letterbox_image(im, net->w, net->h);

  /* Calibration pass: forward_network's loop, one layer at a time, filling
   * each conv just before it runs. */
  network pass = *net;
  pass.train = 0;
  pass.input = sized.data;
  for (int i = 0; i < net->n; ++i) {
    pass.index = i;
    layer *l = &net->layers[i];
    if (l->type == CONVOLUTIONAL) fill_conv(l, &pass);
    l->forward(*l, pass);
    pass.input = l->output;
  }

  char path[4096];
  snprintf(path, sizeof path, "%s/model.weights", out_dir);
  save_weights(net, path);

  network_predict(net, sized.data);
  snprintf(path, sizeof path, "%s/input.npy", out_dir);
  write_npy(path, sized.data, 3, net->h, net->w);
  for (int i = 0; i < net->n; ++i) {
    const layer *l = &net->layers[i];
    /* resize_yolo_layer updates w, h and outputs but not out_w/out_h. */
    const int c = l->type == YOLO ? l->n * (l->classes + 5) : l->out_c;
    const int h = l->type == YOLO ? l->h : l->out_h, w = l->type == YOLO ? l->w : l->out_w;
    if (c * h * w != l->outputs) {
      fprintf(stderr, "layer %d: shape %dx%dx%d does not match its %d outputs\n", i, c, h, w, l->outputs);
      return 1;
    }
    snprintf(path, sizeof path, "%s/layer_%03d.npy", out_dir, i);
    write_npy(path, l->output, c, h, w);
  }
  fprintf(stderr, "darknet harness: %d layers, input %dx%d, image %dx%d\n", net->n, net->w, net->h, im.w, im.h);
  free_image(sized);
  free_image(im);
  return 0;
}
