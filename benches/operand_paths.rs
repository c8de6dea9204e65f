//! How a conv GEMM's two operands reach its multiply-adds on this adapter: a design probe for the
//! conv kernels, not a kernel of the engine. One 1x1-conv GEMM (out[m][n] = relu(sum_k
//! w[m][k] x[k][n])) in several forms that differ only in where the weights and the inputs are
//! read from, the register block per invocation, and whether the k loop is unrolled:
//!
//! - weights: a storage buffer, each lane loading one k and the lanes sharing them by
//!   subgroupShuffle (the engine's `subgroup` kernels); a uniform buffer (every lane reads the same
//!   address); a sampled texture; or synthetic values (no load: the ceiling without them);
//! - inputs: a storage buffer of vec4s (`subgroup-vec4`), a sampled texture, a read-only storage
//!   texture (one rgba32float texel = four columns), or synthetic values.
//!
//! Each real form's result is checked against the CPU before it is timed (the error bound of a
//! K-term f32 sum, K * eps * sum |w x|); synthetic forms compute nonsense at full speed and are
//! only timed. Forms the adapter lacks (subgroups, a storage-texture format) are reported as not
//! run. The weights of these shapes fit one 64 KiB uniform buffer.
//!
//! `cargo bench --bench operand_paths`; compare the forms within one run.

use std::fmt::Write as _;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use googlenet::gpu::Gpu;
use wgpu::util::DeviceExt;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Weights {
    SubgroupShuffle,
    Uniform,
    SampledTexture,
    Synthetic,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Inputs {
    Storage,
    SampledTexture,
    StorageTexture,
    Synthetic,
}

/// One form: `rows` output channels x `columns` output columns per invocation (multiples of 4).
#[derive(Clone, Copy, Debug)]
struct Form {
    rows: u32,
    columns: u32,
    weights: Weights,
    inputs: Inputs,
    unrolled: bool,
}

impl Form {
    fn name(&self) -> String {
        let unrolled = if self.unrolled { " unrolled" } else { "" };
        format!("{}x{} {:?} weights, {:?} inputs{unrolled}", self.rows, self.columns, self.weights, self.inputs)
    }

    fn checked(&self) -> bool {
        self.weights != Weights::Synthetic && self.inputs != Inputs::Synthetic
    }

    /// Shuffled weights need a fixed subgroup width (rgba32float read-only storage textures are
    /// core WebGPU).
    fn runs_on(&self, gpu: &Gpu) -> bool {
        gpu.fixed_subgroup_width().is_some() || self.weights != Weights::SubgroupShuffle
    }
}

/// A GEMM shape: M output channels, K input channels (a multiple of 16: whole steps of every
/// subgroup width and of the unrolled loop), N output columns (a multiple of 8: whole columns of
/// every form, so only invocations wholly past the end clamp their loads).
#[derive(Clone, Copy)]
struct Shape {
    m: u32,
    k: u32,
    n: u32,
}

/// Weights are packed per block of 16 channels, per k, 16 floats (4 vec4s; one texel each in
/// the texture): [m / 16][k][m % 16]. K is a multiple of 8 in every shape here.
fn packed_weights(shape: Shape, w: &[f32]) -> Vec<f32> {
    let blocks = shape.m.div_ceil(16);
    let mut packed = vec![0.0; (blocks * shape.k * 16) as usize];
    for m in 0..shape.m {
        for k in 0..shape.k {
            packed[(((m / 16) * shape.k + k) * 16 + m % 16) as usize] = w[(m * shape.k + k) as usize];
        }
    }
    packed
}

/// The WGSL of a form, for `lanes` invocations per workgroup (the subgroup width where the
/// weights are shuffled).
fn shader(form: Form, lanes: u32) -> String {
    let (r4, c4) = (form.rows / 4, form.columns / 4);
    let mut s = String::from("struct Shape { m: u32, k: u32, n: u32, _pad: u32 }\n@group(0) @binding(0) var<uniform> shape: Shape;\n");
    s += "@group(0) @binding(3) var<storage, read_write> out: array<f32>;\n";
    s += match form.weights {
        Weights::SubgroupShuffle | Weights::Synthetic => "@group(0) @binding(1) var<storage, read> w: array<vec4<f32>>;\n",
        Weights::Uniform => "@group(0) @binding(1) var<uniform> w: array<vec4<f32>, 4096>;\n",
        Weights::SampledTexture => "@group(0) @binding(1) var w: texture_2d<f32>;\n",
    };
    s += match form.inputs {
        Inputs::Storage | Inputs::Synthetic => "@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;\n",
        Inputs::SampledTexture => "@group(0) @binding(2) var x: texture_2d<f32>;\n",
        Inputs::StorageTexture => "@group(0) @binding(2) var x: texture_storage_2d<rgba32float, read>;\n",
    };
    let lane = if form.weights == Weights::SubgroupShuffle { "subgroup_invocation_id" } else { "local_invocation_index" };
    let _ = write!(s, "@compute @workgroup_size({lanes})\nfn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin({lane}) lane: u32) {{\n");
    let _ = writeln!(s, "    let m0 = wid.y * {}u;\n    let n = (wid.x * {lanes}u + lane) * {}u;", form.rows, form.columns);
    // Invocations past the last column load the last columns instead (and store nothing).
    let _ = writeln!(s, "    let nq = min(n, shape.n - {}u) / 4u;", form.columns);
    // Synthetic operands still read their binding once, so that the bindings stay in the layout.
    s += match form.weights {
        Weights::SampledTexture => "    let seed_w = textureLoad(w, vec2(0u), 0).x;\n",
        _ => "    let seed_w = w[0].x;\n",
    };
    s += match form.inputs {
        Inputs::SampledTexture => "    let seed_x = textureLoad(x, vec2(0u), 0).x;\n",
        Inputs::StorageTexture => "    let seed_x = textureLoad(x, vec2(0u)).x;\n",
        _ => "    let seed_x = x[0].x;\n",
    };
    for i in 0..r4 {
        for j in 0..form.columns {
            let _ = writeln!(s, "    var a{i}_{j}: vec4<f32>;");
        }
    }
    // Weights of channels m0 + 4i .. + 3 at k: texel / vec4 ((m0 + 4i) % 16) / 4 of row (block, k).
    let weight = |i: u32, k: &str| -> String {
        let (block, part) = (format!("(m0 + {}u) / 16u", 4 * i), format!("((m0 + {}u) % 16u) / 4u", 4 * i));
        match form.weights {
            Weights::SubgroupShuffle => format!("w[(({block}) * shape.k + {k}) * 4u + {part}]"),
            Weights::Uniform => format!("w[(({block}) * shape.k + {k}) * 4u + {part}]"),
            Weights::SampledTexture => format!("textureLoad(w, vec2({part}, ({block}) * shape.k + {k}), 0)"),
            Weights::Synthetic => format!("vec4(f32({k}), 1.0, f32({i}u), seed_w)"),
        }
    };
    let input = |q: u32, k: &str| -> String {
        match form.inputs {
            Inputs::Storage => format!("x[{k} * (shape.n / 4u) + nq + {q}u]"),
            Inputs::SampledTexture => format!("textureLoad(x, vec2(nq + {q}u, {k}), 0)"),
            Inputs::StorageTexture => format!("textureLoad(x, vec2(nq + {q}u, {k}))"),
            Inputs::Synthetic => format!("vec4(f32({k}), f32(nq), seed_x, f32({q}u))"),
        }
    };
    // One k step: the weights (as `weight_of(i)` gives them), the inputs, R x C multiply-adds.
    let step = |k: &str, weight_of: &dyn Fn(u32) -> String| -> String {
        let mut b = String::from("        {\n");
        for i in 0..r4 {
            let _ = writeln!(b, "        let w{i} = {};", weight_of(i));
        }
        for q in 0..c4 {
            let _ = writeln!(b, "        let x{q} = {};", input(q, k));
        }
        for i in 0..r4 {
            for j in 0..form.columns {
                let _ = writeln!(b, "        a{i}_{j} += w{i} * x{}[{}];", j / 4, j % 4);
            }
        }
        b + "        }\n"
    };
    if form.weights == Weights::SubgroupShuffle {
        // Lane l loads the weights at k0 + l; step j takes lane j's.
        let _ = writeln!(s, "    for (var k0 = 0u; k0 < shape.k; k0 += {lanes}u) {{");
        for i in 0..r4 {
            let _ = writeln!(s, "      let lane_w{i} = {};", weight(i, "(k0 + lane)"));
        }
        if form.unrolled {
            for j in 0..lanes {
                s += &step(&format!("(k0 + {j}u)"), &|i| format!("subgroupShuffle(lane_w{i}, {j}u)"));
            }
        } else {
            let _ = writeln!(s, "      for (var j = 0u; j < {lanes}u; j++) {{");
            s += &step("(k0 + j)", &|i| format!("subgroupShuffle(lane_w{i}, j)"));
            s += "      }\n";
        }
        s += "    }\n";
    } else if form.unrolled {
        s += "    for (var k0 = 0u; k0 < shape.k; k0 += 8u) {\n";
        for j in 0..8 {
            let k = format!("(k0 + {j}u)");
            s += &step(&k, &|i| weight(i, &k));
        }
        s += "    }\n";
    } else {
        s += "    for (var k = 0u; k < shape.k; k++) {\n";
        s += &step("k", &|i| weight(i, "k"));
        s += "    }\n";
    }
    for i in 0..r4 {
        for j in 0..form.columns {
            let _ = writeln!(
                s,
                "    if (n + {j}u < shape.n) {{ for (var e = 0u; e < 4u; e++) {{ if (m0 + {}u + e < shape.m) {{ out[(m0 + {}u + e) * shape.n + n + {j}u] = max(a{i}_{j}[e], 0.0); }} }} }}",
                4 * i,
                4 * i
            );
        }
    }
    s + "}\n"
}

/// A shape's operands on the GPU in every form, its output, and the CPU's answer.
struct Operands {
    shape: Shape,
    shape_buffer: wgpu::Buffer,
    weights_storage: wgpu::Buffer,
    weights_uniform: wgpu::Buffer,
    weights_texture: wgpu::TextureView,
    inputs_storage: wgpu::Buffer,
    inputs_texture: wgpu::TextureView,
    out: wgpu::Buffer,
    read_back: wgpu::Buffer,
    expected: Vec<f32>,
    /// Per output: K * eps * sum |w x|, the bound on a K-term f32 sum's rounding error.
    bound: Vec<f32>,
}

fn texture(gpu: &Gpu, width: u32, height: u32, data: &[f32], usage: wgpu::TextureUsages) -> wgpu::TextureView {
    let descriptor = wgpu::TextureDescriptor {
        label: None,
        size: wgpu::Extent3d { width, height, depth_or_array_layers: 1 },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: wgpu::TextureFormat::Rgba32Float,
        usage,
        view_formats: &[],
    };
    gpu.device.create_texture_with_data(&gpu.queue, &descriptor, Default::default(), bytemuck::cast_slice(data)).create_view(&Default::default())
}

impl Operands {
    fn new(gpu: &Gpu, shape: Shape) -> Self {
        let Shape { m, k, n } = shape;
        assert!(k % 16 == 0 && n % 8 == 0, "K a multiple of 16 and N of 8");
        let mut state = 0x2545_f491_u32;
        let mut next = move || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        let w: Vec<f32> = (0..m * k).map(|_| next()).collect();
        let x: Vec<f32> = (0..k * n).map(|_| next()).collect();
        let (mut expected, mut bound) = (vec![0.0; (m * n) as usize], vec![0.0; (m * n) as usize]);
        for row in 0..m as usize {
            for column in 0..n as usize {
                let terms = (0..k as usize).map(|i| w[row * k as usize + i] * x[i * n as usize + column]);
                expected[row * n as usize + column] = terms.clone().sum::<f32>().max(0.0);
                bound[row * n as usize + column] = k as f32 * f32::EPSILON * terms.map(f32::abs).sum::<f32>();
            }
        }
        let packed = packed_weights(shape, &w);
        let mut uniform = packed.clone();
        assert!(uniform.len() <= 16384, "the weights of a shape here fit one 64 KiB uniform buffer");
        uniform.resize(16384, 0.0);
        let init = |contents: &[u8], usage| gpu.device.create_buffer_init(&wgpu::util::BufferInitDescriptor { label: None, contents, usage });
        let output = |usage| gpu.device.create_buffer(&wgpu::BufferDescriptor { label: None, size: u64::from(m * n * 4), usage, mapped_at_creation: false });
        Operands {
            shape,
            shape_buffer: init(bytemuck::cast_slice(&[m, k, n, 0]), wgpu::BufferUsages::UNIFORM),
            weights_storage: init(bytemuck::cast_slice(&packed), wgpu::BufferUsages::STORAGE),
            weights_uniform: init(bytemuck::cast_slice(&uniform), wgpu::BufferUsages::UNIFORM),
            weights_texture: texture(gpu, 4, packed.len() as u32 / 16, &packed, wgpu::TextureUsages::TEXTURE_BINDING),
            inputs_storage: init(bytemuck::cast_slice(&x), wgpu::BufferUsages::STORAGE),
            inputs_texture: texture(gpu, n / 4, k, &x, wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::STORAGE_BINDING),
            out: output(wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC),
            read_back: output(wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST),
            expected,
            bound,
        }
    }
}

/// A form compiled and bound to a shape's operands.
struct Prepared {
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    workgroups: (u32, u32),
}

impl Prepared {
    fn new(gpu: &Gpu, operands: &Operands, form: Form) -> Self {
        let lanes = gpu.fixed_subgroup_width().map_or(8, |width| width.lanes());
        let module = gpu.device.create_shader_module(wgpu::ShaderModuleDescriptor { label: None, source: wgpu::ShaderSource::Wgsl(shader(form, lanes).into()) });
        let pipeline = gpu.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(&form.name()),
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        let weights = match form.weights {
            Weights::Uniform => operands.weights_uniform.as_entire_binding(),
            Weights::SampledTexture => wgpu::BindingResource::TextureView(&operands.weights_texture),
            Weights::SubgroupShuffle | Weights::Synthetic => operands.weights_storage.as_entire_binding(),
        };
        let inputs = match form.inputs {
            Inputs::SampledTexture | Inputs::StorageTexture => wgpu::BindingResource::TextureView(&operands.inputs_texture),
            Inputs::Storage | Inputs::Synthetic => operands.inputs_storage.as_entire_binding(),
        };
        let entries = [operands.shape_buffer.as_entire_binding(), weights, inputs, operands.out.as_entire_binding()];
        let entries: Vec<wgpu::BindGroupEntry> = entries.into_iter().enumerate().map(|(binding, resource)| wgpu::BindGroupEntry { binding: binding as u32, resource }).collect();
        let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor { label: None, layout: &pipeline.get_bind_group_layout(0), entries: &entries });
        let shape = operands.shape;
        Prepared { pipeline, bind_group, workgroups: (shape.n.div_ceil(form.columns * lanes), shape.m.div_ceil(form.rows)) }
    }

    fn run(&self, gpu: &Gpu, operands: &Operands, read_back: bool) {
        let mut encoder = gpu.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &self.bind_group, &[]);
            pass.dispatch_workgroups(self.workgroups.0, self.workgroups.1, 1);
        }
        if read_back {
            encoder.copy_buffer_to_buffer(&operands.out, 0, &operands.read_back, 0, None);
        }
        gpu.queue.submit([encoder.finish()]);
        gpu.device.poll(wgpu::PollType::wait_indefinitely()).expect("the GPU finishes");
    }

    /// Runs once and compares with the CPU: the worst error over its bound (at most 1).
    fn worst_error(&self, gpu: &Gpu, operands: &Operands) -> f32 {
        self.run(gpu, operands, true);
        let slice = operands.read_back.slice(..);
        slice.map_async(wgpu::MapMode::Read, |result| result.expect("the read-back maps"));
        gpu.device.poll(wgpu::PollType::wait_indefinitely()).expect("the read-back maps");
        let got: Vec<f32> = bytemuck::cast_slice(&slice.get_mapped_range().expect("the read-back is mapped")).to_vec();
        operands.read_back.unmap();
        let errors = got.iter().zip(&operands.expected).zip(&operands.bound).map(|((got, want), bound)| (got - want).abs() / bound.max(f32::MIN_POSITIVE));
        errors.fold(0.0, f32::max)
    }
}

fn forms() -> Vec<Form> {
    let form = |rows, columns, weights, inputs, unrolled| Form { rows, columns, weights, inputs, unrolled };
    use Inputs as I;
    use Weights as W;
    vec![
        // The engine's subgroup-vec4 core, then one change at a time.
        form(16, 4, W::SubgroupShuffle, I::Storage, false),
        form(16, 4, W::SubgroupShuffle, I::Storage, true),
        form(16, 8, W::SubgroupShuffle, I::Storage, false),
        form(16, 4, W::Uniform, I::Storage, false),
        form(16, 4, W::SampledTexture, I::Storage, false),
        form(16, 4, W::SubgroupShuffle, I::SampledTexture, false),
        form(16, 4, W::SubgroupShuffle, I::StorageTexture, false),
        form(16, 8, W::SubgroupShuffle, I::StorageTexture, false),
        form(16, 8, W::SubgroupShuffle, I::StorageTexture, true),
        // Ceilings: without the weight loads, without the input loads, without both.
        form(16, 4, W::Synthetic, I::Storage, true),
        form(16, 4, W::SubgroupShuffle, I::Synthetic, true),
        form(16, 4, W::Synthetic, I::Synthetic, false),
        form(16, 4, W::Synthetic, I::Synthetic, true),
    ]
}

fn operand_paths(c: &mut Criterion) {
    let gpu = match Gpu::new() {
        Ok(gpu) => gpu,
        Err(e) => panic!("the operand-path benchmark needs a GPU adapter: {e}"),
    };
    // inception_3a's 1x1 (K 192 at 28x28), and inception_4a's 1x1 input (K 480 at 14x14) at
    // batch 2 with fewer channels (the weights must fit one uniform buffer).
    let shapes = [("M 64 K 192 N 784", Shape { m: 64, k: 192, n: 784 }), ("M 32 K 480 N 392", Shape { m: 32, k: 480, n: 392 })];
    for (name, shape) in shapes {
        let operands = Operands::new(&gpu, shape);
        let mut group = c.benchmark_group(format!("operand paths {name}"));
        group.throughput(Throughput::Elements(u64::from(shape.m * shape.k * shape.n)));
        group.sample_size(10).warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(1));
        for form in forms() {
            if !form.runs_on(&gpu) {
                println!("{name}: {} not run: the adapter lacks it", form.name());
                continue;
            }
            let prepared = Prepared::new(&gpu, &operands, form);
            if form.checked() {
                let worst = prepared.worst_error(&gpu, &operands);
                assert!(worst <= 1.0, "{name}: {} is off by {worst} times its error bound", form.name());
            }
            group.bench_function(form.name(), |b| b.iter(|| prepared.run(&gpu, &operands, false)));
        }
        group.finish();
    }
}

criterion_group!(benches, operand_paths);
criterion_main!(benches);
