/* A stand-in for the NVIDIA driver's libcuda.so.1, for the tests only (SYNTHESIZED). The real driver
 * installs libcuda.so.1 beside libnvidia-ml.so.1; the doctor checks statically that the loader would
 * find it (PD211). Nothing in the tests runs CUDA: every entry point says there is no device. */
#include <stdlib.h>

int cuInit(unsigned flags) { (void)flags; return 100; /* CUDA_ERROR_NO_DEVICE */ }
int cuDriverGetVersion(int *v) {
    const char *s = getenv("FAKE_CUDA_DRIVER_VERSION");
    *v = s ? atoi(s) : 12040;
    return 0;
}
int cuDeviceGetCount(int *n) { *n = 0; return 100; }
