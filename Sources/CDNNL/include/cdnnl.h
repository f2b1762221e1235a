#pragma once
// oneDNN (libdnnl 2.6) loaded at run time with dlopen, as OpenBLAS is: a machine without it still
// runs with backend auto (OpenBLAS). Swift calls skipdit_<name>(...) wrappers with the prototypes
// of dnnl.h.
#include <dnnl.h>

/// Loads libdnnl once (thread-safe). Returns NULL on success, else the error text.
const char *skipdit_dnnl_load(void);

/// omp_set_num_threads of the OpenMP runtime libdnnl uses; returns 0 when it has none.
int skipdit_omp_set_num_threads(int n);

dnnl_status_t skipdit_dnnl_engine_create(dnnl_engine_t *engine, dnnl_engine_kind_t kind, size_t index);
dnnl_cpu_isa_t skipdit_dnnl_get_effective_cpu_isa(void);
dnnl_status_t skipdit_dnnl_matmul_desc_init(dnnl_matmul_desc_t *matmul_desc, const dnnl_memory_desc_t *src_desc, const dnnl_memory_desc_t *weights_desc, const dnnl_memory_desc_t *bias_desc, const dnnl_memory_desc_t *dst_desc);
dnnl_status_t skipdit_dnnl_memory_create(dnnl_memory_t *memory, const dnnl_memory_desc_t *memory_desc, dnnl_engine_t engine, void *handle);
size_t skipdit_dnnl_memory_desc_get_size(const dnnl_memory_desc_t *memory_desc);
dnnl_status_t skipdit_dnnl_memory_desc_init_by_strides(dnnl_memory_desc_t *memory_desc, int ndims, const dnnl_dims_t dims, dnnl_data_type_t data_type, const dnnl_dims_t strides);
dnnl_status_t skipdit_dnnl_memory_destroy(dnnl_memory_t memory);
dnnl_status_t skipdit_dnnl_memory_set_data_handle(dnnl_memory_t memory, void *handle);
dnnl_status_t skipdit_dnnl_post_ops_append_sum(dnnl_post_ops_t post_ops, float scale);
dnnl_status_t skipdit_dnnl_post_ops_create(dnnl_post_ops_t *post_ops);
dnnl_status_t skipdit_dnnl_post_ops_destroy(dnnl_post_ops_t post_ops);
dnnl_status_t skipdit_dnnl_primitive_attr_create(dnnl_primitive_attr_t *attr);
dnnl_status_t skipdit_dnnl_primitive_attr_destroy(dnnl_primitive_attr_t attr);
dnnl_status_t skipdit_dnnl_primitive_attr_set_output_scales(dnnl_primitive_attr_t attr, dnnl_dim_t count, int mask, const float *scales);
dnnl_status_t skipdit_dnnl_primitive_attr_set_post_ops(dnnl_primitive_attr_t attr, const_dnnl_post_ops_t post_ops);
dnnl_status_t skipdit_dnnl_primitive_attr_set_scratchpad_mode(dnnl_primitive_attr_t attr, dnnl_scratchpad_mode_t mode);
dnnl_status_t skipdit_dnnl_primitive_create(dnnl_primitive_t *primitive, const_dnnl_primitive_desc_t primitive_desc);
dnnl_status_t skipdit_dnnl_primitive_desc_create(dnnl_primitive_desc_t *primitive_desc, const_dnnl_op_desc_t op_desc, const_dnnl_primitive_attr_t attr, dnnl_engine_t engine, const_dnnl_primitive_desc_t hint_forward_primitive_desc);
dnnl_status_t skipdit_dnnl_primitive_desc_destroy(dnnl_primitive_desc_t primitive_desc);
dnnl_status_t skipdit_dnnl_primitive_desc_query(const_dnnl_primitive_desc_t primitive_desc, dnnl_query_t what, int index, void *result);
const dnnl_memory_desc_t * skipdit_dnnl_primitive_desc_query_md(const_dnnl_primitive_desc_t primitive_desc, dnnl_query_t what, int index);
dnnl_status_t skipdit_dnnl_primitive_destroy(dnnl_primitive_t primitive);
dnnl_status_t skipdit_dnnl_primitive_execute(const_dnnl_primitive_t primitive, dnnl_stream_t stream, int nargs, const dnnl_exec_arg_t *args);
dnnl_status_t skipdit_dnnl_stream_create(dnnl_stream_t *stream, dnnl_engine_t engine, unsigned flags);
dnnl_status_t skipdit_dnnl_stream_destroy(dnnl_stream_t stream);
dnnl_status_t skipdit_dnnl_stream_wait(dnnl_stream_t stream);
const dnnl_version_t * skipdit_dnnl_version(void);
