// What every conv kernel shares: the parameter block for up to 36 convolutions ("problems")
// computed by one dispatch, the bindings, and helpers. A conv kernel module is this file, one
// core (`conv_tiled.wgsl` or `conv_subgroup.wgsl`: how the GEMM is computed) and one loader
// (`conv_kxk.wgsl` or `conv_1x1.wgsl`: how input element (k, n) of problem p is found).
//
// A loader splits the lookup of B[k][n] in two, so a core that walks k for a fixed n does the
// per-column divisions once: `column_of(p, n)` -> Column (where output column n reads from),
// `first_tap(p, k)` -> Tap (where reduction index k reads from, relative to a column),
// `next_tap(p, tap)` (the tap of k + 1, without dividing), `load_tap(p, column, tap, pooled)`,
// and `load_quad(p, quad, tap, pooled)`: four consecutive columns at once. A loader declares the
// input binding (as f32s, or as vec4s where it loads whole quads).
// `pooled` is whether the problem pools its input (pool_input != 0), passed in so that a core can
// give pooled problems their own copy of its loop (a constant there) instead of a branch on every
// load; the loader reads which pool from pool_input.
//
// GEMM view of problem p:  out[m][n] = relu?(bias[m] + sum_k weight[m][k] * B[k][n] + R[m][n])
//   m = output channel              (M = out_channels)
//   n = (image, output row, column) (N = batch * out_h * out_w)
//   k = (input channel, ky, kx)     (K = in_channels * kernel_h * kernel_w; a problem sums
//                                     k_begin <= k < k_end)
//   R = the residual (a value of the output's shape), where the problem has one
//
// Bindings: 0 params (uniform ConvGroupParams), 1 input (declared by the loader; NCHW, problem p
// reads in_channels from in_c_offset of in_c_total), 2 weight (declared by the core, in its
// layout; problem p's start at weight_offset), 3 bias (problem p's
// [M] at bias_offset), 4 residual (problem p reads channels res_c_offset .. + M of res_c_total
// where `residual` is 1), 5 and 6 the two output buffers (problem p writes output
// `output_slot`, channels out_c_offset .. out_c_offset + M of out_c_total: a slice of a concat
// buffer).
//
// The problems share the grid: rows of workgroups are dealt out to them (problems[p].first_tile
// is the first row of problem p, in the core's unit of output channels per row), so the branch
// choice is uniform across a workgroup.

struct ConvProblem {
    in_channels: u32,
    in_h: u32,
    in_w: u32,
    in_c_offset: u32,
    in_c_total: u32,
    out_channels: u32,
    out_h: u32,
    out_w: u32,
    out_c_offset: u32,
    out_c_total: u32,
    kernel_h: u32,
    kernel_w: u32,
    stride_h: u32,
    stride_w: u32,
    pad_top: u32,
    pad_left: u32,
    relu: u32,
    // How the input is pooled 3x3, stride 1, pad 1 before the conv reads it (an inception pool
    // branch): 0 not at all, 1 max, 2 average over the taps inside the image
    // (count_include_pad = 0), 3 average over all 9 taps (count_include_pad = 1). 1x1 loader only.
    pool_input: u32,
    weight_offset: u32,
    bias_offset: u32,
    output_slot: u32,
    first_tile: u32,
    // The reduction indices summed, [k_begin, k_end): all of k, or one part of a conv split
    // along K (split-K), whose weights then hold only those columns ([M][k_end - k_begin]).
    k_begin: u32,
    k_end: u32,
    // 1: add the residual's channels res_c_offset .. of res_c_total before the ReLU.
    residual: u32,
    res_c_offset: u32,
    res_c_total: u32,
    _pad: u32,
}

struct ConvGroupParams {
    batch: u32,
    problem_count: u32,
    _pad0: u32,
    _pad1: u32,
    problems: array<ConvProblem, 36>,
}

@group(0) @binding(0) var<uniform> params: ConvGroupParams;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> residual_input: array<f32>;
@group(0) @binding(5) var<storage, read_write> output0: array<f32>;
@group(0) @binding(6) var<storage, read_write> output1: array<f32>;

// Output column n's window: the input offset of its image's first channel in problem p's slice
// plus the window's top-left pixel (which may lie in the padding, hence signed), and that pixel.
struct Column {
    base: i32,
    y: i32,
    x: i32,
}

// Reduction index k: its offset from a column's base (x), and its window position (y = ky,
// z = kx). A vector, not a struct: cores keep one in a `var`, and naga decorates struct members
// with explicit layouts, which Vulkan forbids on function variables
// (VUID-StandaloneSpirv-None-10684; https://github.com/gfx-rs/wgpu/issues/7696).
alias Tap = vec3<u32>;

// Four consecutive output columns n .. n + 3 (each clamped to the last column).
struct Quad {
    c0: Column,
    c1: Column,
    c2: Column,
    c3: Column,
}

fn quad_of(p: u32, n: u32, last: u32) -> Quad {
    return Quad(column_of(p, min(n, last)), column_of(p, min(n + 1u, last)), column_of(p, min(n + 2u, last)), column_of(p, min(n + 3u, last)));
}

// A quad's elements at `tap`, one load each (for loaders whose quads are not contiguous).
fn load_each(p: u32, quad: Quad, tap: Tap, pooled: bool) -> vec4<f32> {
    return vec4(load_tap(p, quad.c0, tap, pooled), load_tap(p, quad.c1, tap, pooled), load_tap(p, quad.c2, tap, pooled), load_tap(p, quad.c3, tap, pooled));
}

// Element (k, n) of problem p's B matrix, for cores that look up elements one by one.
fn load_input(p: u32, k: u32, n: u32) -> f32 {
    return load_tap(p, column_of(p, n), first_tap(p, k), params.problems[p].pool_input != 0u);
}

// The epilogue after the bias: problem p's residual at output channel m of `image`, `pixel`
// (where it has one), then its ReLU.
fn finish(p: u32, m: u32, image: u32, pixel: u32, biased: f32) -> f32 {
    let q = params.problems[p];
    var v = biased;
    if (q.residual != 0u) {
        v += residual_input[(image * q.res_c_total + q.res_c_offset + m) * q.out_h * q.out_w + pixel];
    }
    return select(v, max(v, 0.0), q.relu != 0u);
}

fn store(p: u32, index: u32, value: f32) {
    if (params.problems[p].output_slot == 0u) {
        output0[index] = value;
    } else {
        output1[index] = value;
    }
}

// The problem whose rows of tiles include tile row `tile`.
fn problem_of(tile: u32) -> u32 {
    var p = 0u;
    for (var i = 1u; i < params.problem_count; i++) {
        if (tile >= params.problems[i].first_tile) {
            p = i;
        }
    }
    return p;
}

