/* A stand-in for the NVIDIA driver's libnvidia-ml.so.1, for the tests only (SYNTHESIZED: it is not
 * NVIDIA's code and holds no GPU). It is built with gcc at test time (tests/fakes/nvml/build.py) and
 * put on LD_LIBRARY_PATH of the doctor's process, so that the REAL nvidia-ml-py (pynvml) loads it with
 * CDLL("libnvidia-ml.so.1") and calls it through the same C ABI as the real driver library: the
 * doctor's NVML probe runs unchanged, only the machine is simulated.
 *
 * The machine comes from the environment variable FAKE_NVML_SPEC, one fact a line (written by
 * build.py from a test's JSON scenario):
 *     init_error 18                     nvmlInit returns this NVML_ERROR_* code
 *     hang_in nvmlInit | crash_in NAME  that entry point sleeps forever / raises SIGSEGV
 *     driver 550.54.14                  cuda 12040
 *     gpu 0 name NVIDIA A100-SXM4-80GB  gpu 0 uuid GPU-...   gpu 0 pci 00000000:01:00.0
 *     gpu 0 cc 8 0                      gpu 0 mem_total B    gpu 0 mem_used B   gpu 0 util 37
 *     gpu 0 ecc_volatile N|NS           gpu 0 ecc_aggregate N|NS
 *     gpu 0 remapped C U P F | NS       gpu 0 retired 0|1|NS
 *     gpu 0 error 15                    every query on that GPU returns this code
 *     gpu 0 handle_error 4              nvmlDeviceGetHandleByIndex returns it (/dev/nvidiaN denied)
 *     gpu 0 proc PID USED               a compute process on it (USED -1: not available)
 *     gpu 0 procs_ns 1                  the process list is NotSupported (vGPU, some containers)
 * The product never names this file or that variable.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXGPU 64
#define MAXPROC 16
#define NS (-2LL) /* "NotSupported" */

enum {
    OK = 0, ERR_UNINITIALIZED = 1, ERR_INVALID_ARGUMENT = 2, ERR_NOT_SUPPORTED = 3,
    ERR_INSUFFICIENT_SIZE = 7, ERR_UNKNOWN = 999
};

typedef struct {
    char name[96], uuid[96], pci[32];
    int cc_major, cc_minor, error, handle_error;
    unsigned long long mem_total, mem_used;
    unsigned util;
    long long ecc_volatile, ecc_aggregate, retired;
    long long remapped[4];
    int remapped_ns, nproc, procs_ns;
    unsigned proc_pid[MAXPROC];
    long long proc_used[MAXPROC];
} gpu_t;

static int initialized, init_error, ngpu;
static char driver[80] = "550.54.14", hang_in[64], crash_in[64];
static int cuda = 12040;
static gpu_t gpus[MAXGPU];

static void enter(const char *fn) {
    if (strcmp(hang_in, fn) == 0)
        for (;;) sleep(3600);
    if (strcmp(crash_in, fn) == 0)
        raise(SIGSEGV);
}

static long long number(const char *s) { return strcmp(s, "NS") == 0 ? NS : atoll(s); }

static void defaults(gpu_t *g, int i) {
    snprintf(g->name, sizeof g->name, "NVIDIA A100-SXM4-80GB");
    snprintf(g->uuid, sizeof g->uuid, "GPU-00000000-0000-0000-0000-00000000000%d", i);
    snprintf(g->pci, sizeof g->pci, "00000000:0%d:00.0", i);
    g->cc_major = 8;
    g->mem_total = 80ULL << 30;
}

static void parse(void) {
    const char *spec = getenv("FAKE_NVML_SPEC");
    if (!spec) return;
    char *copy = strdup(spec), *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char key[32] = "", rest[256] = "";
        if (sscanf(line, "%31s %255[^\n]", key, rest) < 1) continue;
        if (!strcmp(key, "init_error")) init_error = atoi(rest);
        else if (!strcmp(key, "hang_in")) snprintf(hang_in, sizeof hang_in, "%s", rest);
        else if (!strcmp(key, "crash_in")) snprintf(crash_in, sizeof crash_in, "%s", rest);
        else if (!strcmp(key, "driver")) snprintf(driver, sizeof driver, "%s", rest);
        else if (!strcmp(key, "cuda")) cuda = atoi(rest);
        else if (!strcmp(key, "gpu")) {
            int i, n = 0;
            char field[32] = "";
            if (sscanf(rest, "%d %31s %n", &i, field, &n) < 2 || i < 0 || i >= MAXGPU) continue;
            const char *v = rest + n;
            while (ngpu <= i) defaults(&gpus[ngpu], ngpu), ngpu++;
            gpu_t *g = &gpus[i];
            if (!strcmp(field, "name")) snprintf(g->name, sizeof g->name, "%s", v);
            else if (!strcmp(field, "uuid")) snprintf(g->uuid, sizeof g->uuid, "%s", v);
            else if (!strcmp(field, "pci")) snprintf(g->pci, sizeof g->pci, "%s", v);
            else if (!strcmp(field, "cc")) sscanf(v, "%d %d", &g->cc_major, &g->cc_minor);
            else if (!strcmp(field, "mem_total")) g->mem_total = strtoull(v, NULL, 10);
            else if (!strcmp(field, "mem_used")) g->mem_used = strtoull(v, NULL, 10);
            else if (!strcmp(field, "util")) g->util = (unsigned)atoi(v);
            else if (!strcmp(field, "ecc_volatile")) g->ecc_volatile = number(v);
            else if (!strcmp(field, "ecc_aggregate")) g->ecc_aggregate = number(v);
            else if (!strcmp(field, "retired")) g->retired = number(v);
            else if (!strcmp(field, "error")) g->error = atoi(v);
            else if (!strcmp(field, "handle_error")) g->handle_error = atoi(v);
            else if (!strcmp(field, "remapped")) {
                if (!strcmp(v, "NS")) g->remapped_ns = 1;
                else sscanf(v, "%lld %lld %lld %lld", &g->remapped[0], &g->remapped[1],
                            &g->remapped[2], &g->remapped[3]);
            } else if (!strcmp(field, "procs_ns")) {
                g->procs_ns = 1;
            } else if (!strcmp(field, "proc") && g->nproc < MAXPROC) {
                sscanf(v, "%u %lld", &g->proc_pid[g->nproc], &g->proc_used[g->nproc]);
                g->nproc++;
            }
        } else if (!strcmp(key, "gpus")) {  /* a GPU count with every GPU at its defaults */
            int n = atoi(rest);
            while (ngpu < n && ngpu < MAXGPU) defaults(&gpus[ngpu], ngpu), ngpu++;
        }
    }
    free(copy);
}

/* A device handle is the GPU's index + 1, so that NULL is never a valid handle. */
static gpu_t *device(void *handle, int *ret) {
    long i = (long)handle - 1;
    if (!initialized) { *ret = ERR_UNINITIALIZED; return NULL; }
    if (i < 0 || i >= ngpu) { *ret = ERR_INVALID_ARGUMENT; return NULL; }
    if (gpus[i].error) { *ret = gpus[i].error; return NULL; }
    *ret = OK;
    return &gpus[i];
}

#define DEVICE(h) int ret_; gpu_t *g = device((h), &ret_); if (!g) return ret_

static int copy_string(char *out, unsigned len, const char *value) {
    if (!out) return ERR_INVALID_ARGUMENT;
    if (strlen(value) + 1 > len) return ERR_INSUFFICIENT_SIZE;
    strcpy(out, value);
    return OK;
}

int nvmlInitWithFlags(unsigned flags) {
    (void)flags;
    if (!initialized) { ngpu = 0; init_error = 0; parse(); }
    enter("nvmlInit");
    if (init_error) return init_error;
    initialized = 1;
    return OK;
}
int nvmlInit_v2(void) { return nvmlInitWithFlags(0); }
int nvmlInit(void) { return nvmlInitWithFlags(0); }
int nvmlShutdown(void) { initialized = 0; return OK; }

const char *nvmlErrorString(int result) {
    switch (result) {
    case 0: return "Success";
    case 1: return "Uninitialized";
    case 2: return "Invalid Argument";
    case 3: return "Not Supported";
    case 4: return "Insufficient Permissions";
    case 7: return "Insufficient Size";
    case 9: return "Driver Not Loaded";
    case 12: return "NVML Shared Library Not Found";
    case 15: return "GPU is lost";
    case 18: return "RM has detected an NVML/RM version mismatch.";
    default: return "Unknown Error";
    }
}

int nvmlSystemGetDriverVersion(char *version, unsigned len) {
    enter("nvmlSystemGetDriverVersion");
    return initialized ? copy_string(version, len, driver) : ERR_UNINITIALIZED;
}
int nvmlSystemGetNVMLVersion(char *version, unsigned len) {
    char v[100];
    snprintf(v, sizeof v, "12.%s", driver);
    return initialized ? copy_string(version, len, v) : ERR_UNINITIALIZED;
}
int nvmlSystemGetCudaDriverVersion_v2(int *v) {
    if (!initialized) return ERR_UNINITIALIZED;
    *v = cuda;
    return OK;
}
int nvmlSystemGetCudaDriverVersion(int *v) { return nvmlSystemGetCudaDriverVersion_v2(v); }

int nvmlDeviceGetCount_v2(unsigned *count) {
    enter("nvmlDeviceGetCount");
    if (!initialized) return ERR_UNINITIALIZED;
    *count = (unsigned)ngpu;
    return OK;
}
int nvmlDeviceGetCount(unsigned *count) { return nvmlDeviceGetCount_v2(count); }

int nvmlDeviceGetHandleByIndex_v2(unsigned index, void **handle) {
    enter("nvmlDeviceGetHandleByIndex");
    if (!initialized) return ERR_UNINITIALIZED;
    if (index >= (unsigned)ngpu) return ERR_INVALID_ARGUMENT;
    if (gpus[index].error == 15) return 15; /* a lost GPU has no handle either */
    if (gpus[index].handle_error) return gpus[index].handle_error; /* e.g. NoPermission */
    *handle = (void *)(long)(index + 1);
    return OK;
}
int nvmlDeviceGetHandleByIndex(unsigned index, void **handle) {
    return nvmlDeviceGetHandleByIndex_v2(index, handle);
}

int nvmlDeviceGetName(void *h, char *name, unsigned len) { DEVICE(h); return copy_string(name, len, g->name); }
int nvmlDeviceGetUUID(void *h, char *uuid, unsigned len) { DEVICE(h); return copy_string(uuid, len, g->uuid); }

typedef struct {
    char busIdLegacy[16];
    unsigned domain, bus, device, pciDeviceId, pciSubSystemId;
    char busId[32];
} pci_info_t;

int nvmlDeviceGetPciInfo_v3(void *h, pci_info_t *p) {
    DEVICE(h);
    memset(p, 0, sizeof *p);
    snprintf(p->busId, sizeof p->busId, "%s", g->pci);
    snprintf(p->busIdLegacy, sizeof p->busIdLegacy, "%.15s", g->pci);
    return OK;
}
int nvmlDeviceGetPciInfo_v2(void *h, pci_info_t *p) { return nvmlDeviceGetPciInfo_v3(h, p); }

int nvmlDeviceGetCudaComputeCapability(void *h, int *major, int *minor) {
    DEVICE(h);
    *major = g->cc_major;
    *minor = g->cc_minor;
    return OK;
}

typedef struct { unsigned long long total, free, used; } memory_t;
int nvmlDeviceGetMemoryInfo(void *h, memory_t *m) {
    DEVICE(h);
    m->total = g->mem_total;
    m->used = g->mem_used;
    m->free = g->mem_total - g->mem_used;
    return OK;
}

typedef struct { unsigned gpu, memory; } utilization_t;
int nvmlDeviceGetUtilizationRates(void *h, utilization_t *u) {
    DEVICE(h);
    u->gpu = g->util;
    u->memory = 0;
    return OK;
}

int nvmlDeviceGetTotalEccErrors(void *h, int error_type, int counter_type, unsigned long long *count) {
    DEVICE(h);
    if (error_type != 1) { *count = 0; return OK; } /* corrected errors: none */
    long long v = counter_type == 0 ? g->ecc_volatile : g->ecc_aggregate;
    if (v == NS) return ERR_NOT_SUPPORTED;
    *count = (unsigned long long)v;
    return OK;
}

int nvmlDeviceGetRemappedRows(void *h, unsigned *corr, unsigned *unc, unsigned *pending, unsigned *failure) {
    DEVICE(h);
    if (g->remapped_ns) return ERR_NOT_SUPPORTED;
    *corr = (unsigned)g->remapped[0];
    *unc = (unsigned)g->remapped[1];
    *pending = (unsigned)g->remapped[2];
    *failure = (unsigned)g->remapped[3];
    return OK;
}

int nvmlDeviceGetRetiredPagesPendingStatus(void *h, int *pending) {
    DEVICE(h);
    if (g->retired == NS) return ERR_NOT_SUPPORTED;
    *pending = (int)g->retired;
    return OK;
}

typedef struct {
    unsigned pid;
    unsigned long long usedGpuMemory;
    unsigned gpuInstanceId, computeInstanceId;
} process_t;

int nvmlDeviceGetComputeRunningProcesses_v3(void *h, unsigned *count, process_t *infos) {
    DEVICE(h);
    if (g->procs_ns) return ERR_NOT_SUPPORTED;
    if (g->nproc == 0) { *count = 0; return OK; }
    if (!infos || *count < (unsigned)g->nproc) { *count = (unsigned)g->nproc; return ERR_INSUFFICIENT_SIZE; }
    for (int i = 0; i < g->nproc; i++) {
        infos[i].pid = g->proc_pid[i];
        /* NVML_VALUE_NOT_AVAILABLE (all ones) where the driver cannot say, as on WDDM */
        infos[i].usedGpuMemory = g->proc_used[i] < 0 ? ~0ULL : (unsigned long long)g->proc_used[i];
        infos[i].gpuInstanceId = infos[i].computeInstanceId = 0xFFFFFFFFu;
    }
    *count = (unsigned)g->nproc;
    return OK;
}
int nvmlDeviceGetComputeRunningProcesses_v2(void *h, unsigned *c, process_t *p) {
    return nvmlDeviceGetComputeRunningProcesses_v3(h, c, p);
}
int nvmlDeviceGetComputeRunningProcesses(void *h, unsigned *c, process_t *p) {
    return nvmlDeviceGetComputeRunningProcesses_v3(h, c, p);
}
