// The oneDNN function table and its wrappers (see include/cdnnl.h).
#include "cdnnl.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static struct {
    dnnl_status_t (*dnnl_engine_create)(dnnl_engine_t *engine, dnnl_engine_kind_t kind, size_t index);
    dnnl_cpu_isa_t (*dnnl_get_effective_cpu_isa)(void);
    dnnl_status_t (*dnnl_matmul_desc_init)(dnnl_matmul_desc_t *matmul_desc, const dnnl_memory_desc_t *src_desc, const dnnl_memory_desc_t *weights_desc, const dnnl_memory_desc_t *bias_desc, const dnnl_memory_desc_t *dst_desc);
    dnnl_status_t (*dnnl_memory_create)(dnnl_memory_t *memory, const dnnl_memory_desc_t *memory_desc, dnnl_engine_t engine, void *handle);
    size_t (*dnnl_memory_desc_get_size)(const dnnl_memory_desc_t *memory_desc);
    dnnl_status_t (*dnnl_memory_desc_init_by_strides)(dnnl_memory_desc_t *memory_desc, int ndims, const dnnl_dims_t dims, dnnl_data_type_t data_type, const dnnl_dims_t strides);
    dnnl_status_t (*dnnl_memory_destroy)(dnnl_memory_t memory);
    dnnl_status_t (*dnnl_memory_set_data_handle)(dnnl_memory_t memory, void *handle);
    dnnl_status_t (*dnnl_post_ops_append_sum)(dnnl_post_ops_t post_ops, float scale);
    dnnl_status_t (*dnnl_post_ops_create)(dnnl_post_ops_t *post_ops);
    dnnl_status_t (*dnnl_post_ops_destroy)(dnnl_post_ops_t post_ops);
    dnnl_status_t (*dnnl_primitive_attr_create)(dnnl_primitive_attr_t *attr);
    dnnl_status_t (*dnnl_primitive_attr_destroy)(dnnl_primitive_attr_t attr);
    dnnl_status_t (*dnnl_primitive_attr_set_output_scales)(dnnl_primitive_attr_t attr, dnnl_dim_t count, int mask, const float *scales);
    dnnl_status_t (*dnnl_primitive_attr_set_post_ops)(dnnl_primitive_attr_t attr, const_dnnl_post_ops_t post_ops);
    dnnl_status_t (*dnnl_primitive_attr_set_scratchpad_mode)(dnnl_primitive_attr_t attr, dnnl_scratchpad_mode_t mode);
    dnnl_status_t (*dnnl_primitive_create)(dnnl_primitive_t *primitive, const_dnnl_primitive_desc_t primitive_desc);
    dnnl_status_t (*dnnl_primitive_desc_create)(dnnl_primitive_desc_t *primitive_desc, const_dnnl_op_desc_t op_desc, const_dnnl_primitive_attr_t attr, dnnl_engine_t engine, const_dnnl_primitive_desc_t hint_forward_primitive_desc);
    dnnl_status_t (*dnnl_primitive_desc_destroy)(dnnl_primitive_desc_t primitive_desc);
    dnnl_status_t (*dnnl_primitive_desc_query)(const_dnnl_primitive_desc_t primitive_desc, dnnl_query_t what, int index, void *result);
    const dnnl_memory_desc_t * (*dnnl_primitive_desc_query_md)(const_dnnl_primitive_desc_t primitive_desc, dnnl_query_t what, int index);
    dnnl_status_t (*dnnl_primitive_destroy)(dnnl_primitive_t primitive);
    dnnl_status_t (*dnnl_primitive_execute)(const_dnnl_primitive_t primitive, dnnl_stream_t stream, int nargs, const dnnl_exec_arg_t *args);
    dnnl_status_t (*dnnl_stream_create)(dnnl_stream_t *stream, dnnl_engine_t engine, unsigned flags);
    dnnl_status_t (*dnnl_stream_destroy)(dnnl_stream_t stream);
    dnnl_status_t (*dnnl_stream_wait)(dnnl_stream_t stream);
    const dnnl_version_t * (*dnnl_version)(void);
    void (*omp_set_num_threads)(int);
    void (*omp_set_dynamic)(int);
} api;

static const char *load_error = "libdnnl not loaded";
static char error_text[512];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void) {
    void *h = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!h) h = dlopen("libdnnl.so", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(error_text, sizeof error_text, "dlopen libdnnl.so.2: %s", dlerror());
        load_error = error_text;
        return;
    }
    *(void **)&api.dnnl_engine_create = dlsym(h, "dnnl_engine_create");
    if (!api.dnnl_engine_create) {
        snprintf(error_text, sizeof error_text, "libdnnl has no symbol dnnl_engine_create");
        load_error = error_text;
        return;
    }
    *(void **)&api.dnnl_get_effective_cpu_isa = dlsym(h, "dnnl_get_effective_cpu_isa");
    if (!api.dnnl_get_effective_cpu_isa) {
        snprintf(error_text, sizeof error_text, "libdnnl has no symbol dnnl_get_effective_cpu_isa");
        load_error = error_text;
        return;
    }
    *(void **)&api.dnnl_matmul_desc_init = dlsym(h, "dnnl_matmul_desc_init");
    if (!api.dnnl_matmul_desc_init) {
        snprintf(error_text, sizeof error_text, "libdnnl has no symbol dnnl_matmul_desc_init");
        load_error = error_text;
        return;
    }
    *(void **)&api.dnnl_memory_create = dlsym(h, "dnnl_memory_create");
    if (!api.dnnl_memory_create) {
        snprintf(error_text, sizeof error_text, "libdnnl has no symbol dnnl_memory_create");
        load_error = error_text;
        return;
    }
    *(void **)&api.dnnl_memory_desc_get_size = dlsym(h, "dnnl_memory_desc_get_size");
    if (!api.dnnl_memory_desc_get_size) {
        snprintf(error_text, sizeof error_text, "libdnnl has no symbol dnnl_memory_desc_get_size");
        load_error = error_text;
        return;
    }
    *(void **)&api.dnnl_memory_desc_init_by_strides = dlsym(h, "dnnl_memory_desc_init_by_strides");
    if (!api.dnnl_memory_desc_init_by_strides) {
        snprintf(error_text, sizeof error_text, "libdnnl has no symbol dnnl_memory_desc_init_by_strides");
        load_error = error_text;
        return;
    }
    *(void **)&api.dnnl_memory_destroy = dlsym(h, "dnnl_memory_destroy");
    if (!api.dnnl_memory_destroy) {
        snprintf(error_text, sizeof error_text, "libdnnl has no symbol dnnl_memory_destroy");
        load_error = error_text;
        return;
    }
    *(void **)&api.dnnl_memory_set_data_handle = dlsym(h, "dnnl_memory_set_data_handle");
    if (!api.dnnl_memory_set_data_handle) {
        snprintf(error_text, sizeof error_text, "libdnnl has no symbol dnnl_memory_set_data_handle");
        load_error = error_text;
        return;
    }
    *(void **)&api.dnnl_post_ops_append_sum = dlsym(h, "dnnl_post_ops_append_sum");
    if (!api.dnnl_post_ops_append_sum) {
        snprintf(error_text, sizeof error_text, "libdnnl has no symbol dnnl_post_ops_append_sum");
        load_error = error_text;
        return;
    }
    *(void **)&api.dnnl_post_ops_create = dlsym(h, "dnnl_post_ops_create");
    if (!api.dnnl_post_ops_create) {
        snprintf(error_text, sizeof error_text, "libdnnl has no symbol dnnl_post_ops_create");
        load_error = error_text;
        return;
    }
    *(void **)&api.dnnl_post_ops_destroy = dlsym(h, "dnnl_post_ops_destroy");
    if (!api.dnnl_post_ops_destroy) {
        snprintf(error_text, sizeof error_text, "libdnnl has no symbol dnnl_post_ops_destroy");
        load_error = error_text;
        return;
    }
    *(void **)&api.dnnl_primitive_attr_create = dlsym(h, "dnnl_primitive_attr_create");
    if (!api.dnnl_primitive_attr_create) {
        snprintf(error_text, sizeof error_text, "libdnnl has no symbol dnnl_primitive_attr_create");
        load_error = error_text;
        return;
    }
    *(void **)&api.dnnl_primitive_attr_destroy = dlsym(h, "dnnl_primitive_attr_destroy");
    if (!api.dnnl_primitive_attr_destroy) {
        snprintf(error_text, sizeof error_text, "libdnnl has no symbol dnnl_primitive_attr_destroy");
        load_error = error_text;
        return;
    }
    *(void **)&api.dnnl_primitive_attr_set_output_scales = dlsym(h, "dnnl_primitive_attr_set_output_scales");
    if (!api.dnnl_primitive_attr_set_output_scales) {
        snprintf(error_text, sizeof error_text, "libdnnl has no symbol dnnl_primitive_attr_set_output_scales");
        load_error = error_text;
        return;
    }
    *(void **)&api.dnnl_primitive_attr_set_post_ops = dlsym(h, "dnnl_primitive_attr_set_post_ops");
    if (!api.dnnl_primitive_attr_set_post_ops) {
        snprintf(error_text, sizeof error_text, "libdnnl has no symbol dnnl_primitive_attr_set_post_ops");
        load_error = error_text;
        return;
    }
    *(void **)&api.dnnl_primitive_attr_set_scratchpad_mode = dlsym(h, "dnnl_primitive_attr_set_scratchpad_mode");
    if (!api.dnnl_primitive_attr_set_scratchpad_mode) {
        snprintf(error_text, sizeof error_text, "libdnnl has no symbol dnnl_primitive_attr_set_scratchpad_mode");
        load_error = error_text;
        return;
    }
    *(void **)&api.dnnl_primitive_create = dlsym(h, "dnnl_primitive_create");
    if (!api.dnnl_primitive_create) {
        snprintf(error_text, sizeof error_text, "libdnnl has no symbol dnnl_primitive_create");
        load_error = error_text;
        return;
    }
    *(void **)&api.dnnl_primitive_desc_create = dlsym(h, "dnnl_primitive_desc_create");
    if (!api.dnnl_primitive_desc_create) {
        snprintf(error_text, sizeof error_text, "libdnnl has no symbol dnnl_primitive_desc_create");
        load_error = error_text;
        return;
    }
    *(void **)&api.dnnl_primitive_desc_destroy = dlsym(h, "dnnl_primitive_desc_destroy");
    if (!api.dnnl_primitive_desc_destroy) {
        snprintf(error_text, sizeof error_text, "libdnnl has no symbol dnnl_primitive_desc_destroy");
        load_error = error_text;
        return;
    }
    *(void **)&api.dnnl_primitive_desc_query = dlsym(h, "dnnl_primitive_desc_query");
    if (!api.dnnl_primitive_desc_query) {
        snprintf(error_text, sizeof error_text, "libdnnl has no symbol dnnl_primitive_desc_query");
        load_error = error_text;
        return;
    }
    *(void **)&api.dnnl_primitive_desc_query_md = dlsym(h, "dnnl_primitive_desc_query_md");
    if (!api.dnnl_primitive_desc_query_md) {
        snprintf(error_text, sizeof error_text, "libdnnl has no symbol dnnl_primitive_desc_query_md");
        load_error = error_text;
        return;
    }
    *(void **)&api.dnnl_primitive_destroy = dlsym(h, "dnnl_primitive_destroy");
    if (!api.dnnl_primitive_destroy) {
        snprintf(error_text, sizeof error_text, "libdnnl has no symbol dnnl_primitive_destroy");
        load_error = error_text;
        return;
    }
    *(void **)&api.dnnl_primitive_execute = dlsym(h, "dnnl_primitive_execute");
    if (!api.dnnl_primitive_execute) {
        snprintf(error_text, sizeof error_text, "libdnnl has no symbol dnnl_primitive_execute");
        load_error = error_text;
        return;
    }
    *(void **)&api.dnnl_stream_create = dlsym(h, "dnnl_stream_create");
    if (!api.dnnl_stream_create) {
        snprintf(error_text, sizeof error_text, "libdnnl has no symbol dnnl_stream_create");
        load_error = error_text;
        return;
    }
    *(void **)&api.dnnl_stream_destroy = dlsym(h, "dnnl_stream_destroy");
    if (!api.dnnl_stream_destroy) {
        snprintf(error_text, sizeof error_text, "libdnnl has no symbol dnnl_stream_destroy");
        load_error = error_text;
        return;
    }
    *(void **)&api.dnnl_stream_wait = dlsym(h, "dnnl_stream_wait");
    if (!api.dnnl_stream_wait) {
        snprintf(error_text, sizeof error_text, "libdnnl has no symbol dnnl_stream_wait");
        load_error = error_text;
        return;
    }
    *(void **)&api.dnnl_version = dlsym(h, "dnnl_version");
    if (!api.dnnl_version) {
        snprintf(error_text, sizeof error_text, "libdnnl has no symbol dnnl_version");
        load_error = error_text;
        return;
    }
    *(void **)&api.omp_set_num_threads = dlsym(h, "omp_set_num_threads");  // optional
    *(void **)&api.omp_set_dynamic = dlsym(h, "omp_set_dynamic");          // optional
    load_error = NULL;
}

int skipdit_omp_set_num_threads(int n) {
    if (skipdit_dnnl_load() || !api.omp_set_num_threads) return 0;
    // Exactly n threads: with dynamic adjustment (OMP_DYNAMIC=true in the environment) the runtime
    // may give a region fewer, and oneDNN would split, and sum, its work another way.
    if (api.omp_set_dynamic) api.omp_set_dynamic(0);
    api.omp_set_num_threads(n);
    return 1;
}

const char *skipdit_dnnl_load(void) {
    pthread_once(&once, load);
    return load_error;
}

dnnl_status_t skipdit_dnnl_engine_create(dnnl_engine_t *engine, dnnl_engine_kind_t kind, size_t index) { return api.dnnl_engine_create(engine, kind, index); }
dnnl_cpu_isa_t skipdit_dnnl_get_effective_cpu_isa(void) { return api.dnnl_get_effective_cpu_isa(); }
dnnl_status_t skipdit_dnnl_matmul_desc_init(dnnl_matmul_desc_t *matmul_desc, const dnnl_memory_desc_t *src_desc, const dnnl_memory_desc_t *weights_desc, const dnnl_memory_desc_t *bias_desc, const dnnl_memory_desc_t *dst_desc) { return api.dnnl_matmul_desc_init(matmul_desc, src_desc, weights_desc, bias_desc, dst_desc); }
dnnl_status_t skipdit_dnnl_memory_create(dnnl_memory_t *memory, const dnnl_memory_desc_t *memory_desc, dnnl_engine_t engine, void *handle) { return api.dnnl_memory_create(memory, memory_desc, engine, handle); }
size_t skipdit_dnnl_memory_desc_get_size(const dnnl_memory_desc_t *memory_desc) { return api.dnnl_memory_desc_get_size(memory_desc); }
dnnl_status_t skipdit_dnnl_memory_desc_init_by_strides(dnnl_memory_desc_t *memory_desc, int ndims, const dnnl_dims_t dims, dnnl_data_type_t data_type, const dnnl_dims_t strides) { return api.dnnl_memory_desc_init_by_strides(memory_desc, ndims, dims, data_type, strides); }
dnnl_status_t skipdit_dnnl_memory_destroy(dnnl_memory_t memory) { return api.dnnl_memory_destroy(memory); }
dnnl_status_t skipdit_dnnl_memory_set_data_handle(dnnl_memory_t memory, void *handle) { return api.dnnl_memory_set_data_handle(memory, handle); }
dnnl_status_t skipdit_dnnl_post_ops_append_sum(dnnl_post_ops_t post_ops, float scale) { return api.dnnl_post_ops_append_sum(post_ops, scale); }
dnnl_status_t skipdit_dnnl_post_ops_create(dnnl_post_ops_t *post_ops) { return api.dnnl_post_ops_create(post_ops); }
dnnl_status_t skipdit_dnnl_post_ops_destroy(dnnl_post_ops_t post_ops) { return api.dnnl_post_ops_destroy(post_ops); }
dnnl_status_t skipdit_dnnl_primitive_attr_create(dnnl_primitive_attr_t *attr) { return api.dnnl_primitive_attr_create(attr); }
dnnl_status_t skipdit_dnnl_primitive_attr_destroy(dnnl_primitive_attr_t attr) { return api.dnnl_primitive_attr_destroy(attr); }
dnnl_status_t skipdit_dnnl_primitive_attr_set_output_scales(dnnl_primitive_attr_t attr, dnnl_dim_t count, int mask, const float *scales) { return api.dnnl_primitive_attr_set_output_scales(attr, count, mask, scales); }
dnnl_status_t skipdit_dnnl_primitive_attr_set_post_ops(dnnl_primitive_attr_t attr, const_dnnl_post_ops_t post_ops) { return api.dnnl_primitive_attr_set_post_ops(attr, post_ops); }
dnnl_status_t skipdit_dnnl_primitive_attr_set_scratchpad_mode(dnnl_primitive_attr_t attr, dnnl_scratchpad_mode_t mode) { return api.dnnl_primitive_attr_set_scratchpad_mode(attr, mode); }
dnnl_status_t skipdit_dnnl_primitive_create(dnnl_primitive_t *primitive, const_dnnl_primitive_desc_t primitive_desc) { return api.dnnl_primitive_create(primitive, primitive_desc); }
dnnl_status_t skipdit_dnnl_primitive_desc_create(dnnl_primitive_desc_t *primitive_desc, const_dnnl_op_desc_t op_desc, const_dnnl_primitive_attr_t attr, dnnl_engine_t engine, const_dnnl_primitive_desc_t hint_forward_primitive_desc) { return api.dnnl_primitive_desc_create(primitive_desc, op_desc, attr, engine, hint_forward_primitive_desc); }
dnnl_status_t skipdit_dnnl_primitive_desc_destroy(dnnl_primitive_desc_t primitive_desc) { return api.dnnl_primitive_desc_destroy(primitive_desc); }
dnnl_status_t skipdit_dnnl_primitive_desc_query(const_dnnl_primitive_desc_t primitive_desc, dnnl_query_t what, int index, void *result) { return api.dnnl_primitive_desc_query(primitive_desc, what, index, result); }
const dnnl_memory_desc_t * skipdit_dnnl_primitive_desc_query_md(const_dnnl_primitive_desc_t primitive_desc, dnnl_query_t what, int index) { return api.dnnl_primitive_desc_query_md(primitive_desc, what, index); }
dnnl_status_t skipdit_dnnl_primitive_destroy(dnnl_primitive_t primitive) { return api.dnnl_primitive_destroy(primitive); }
dnnl_status_t skipdit_dnnl_primitive_execute(const_dnnl_primitive_t primitive, dnnl_stream_t stream, int nargs, const dnnl_exec_arg_t *args) { return api.dnnl_primitive_execute(primitive, stream, nargs, args); }
dnnl_status_t skipdit_dnnl_stream_create(dnnl_stream_t *stream, dnnl_engine_t engine, unsigned flags) { return api.dnnl_stream_create(stream, engine, flags); }
dnnl_status_t skipdit_dnnl_stream_destroy(dnnl_stream_t stream) { return api.dnnl_stream_destroy(stream); }
dnnl_status_t skipdit_dnnl_stream_wait(dnnl_stream_t stream) { return api.dnnl_stream_wait(stream); }
const dnnl_version_t * skipdit_dnnl_version(void) { return api.dnnl_version(); }
