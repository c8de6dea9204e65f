//! The plan in words, for `googlenet plan`: every dispatch with its wave, each module's waves
//! against its critical path, and the buffer assignment.

use std::fmt::Write;

use super::{Dispatch, Plan};

const MIB: f64 = 1024.0 * 1024.0;

impl Plan {
    fn dispatch_line(&self, d: &Dispatch) -> String {
        let outputs: Vec<String> = d.outputs.iter().flatten().map(|&t| format!("{} (buffer {})", self.tensors[t].name, self.buffer(t))).collect();
        format!(
            "{:<16} {}  <- {} (buffer {})  -> {}",
            d.kernel.kernel_name(),
            d.nodes.join(", "),
            self.tensors[d.input].name,
            self.buffer(d.input),
            outputs.join(", ")
        )
    }

    /// Bytes of all buffers, and of all tensors if each had its own.
    pub fn memory(&self) -> (usize, usize) {
        let buffers = self.buffer_sizes.iter().sum::<usize>() * 4;
        let tensors = (0..self.tensors.len()).filter(|&t| self.buffer_of[t].is_some()).map(|t| self.tensors[t].len()).sum::<usize>() * 4;
        (buffers, tensors)
    }

    pub fn report(&self) -> String {
        let mut out = String::new();
        let waves = self.waves();
        let (buffers, tensors) = self.memory();
        let _ = writeln!(
            out,
            "batch {}: {} dispatches in {} waves; {} buffers, {:.1} MiB (each tensor in its own buffer: {:.1} MiB)",
            self.batch,
            self.dispatches.len(),
            waves.last().map_or(0, |w| w + 1),
            self.buffer_sizes.len(),
            buffers as f64 / MIB,
            tensors as f64 / MIB
        );
        let _ = writeln!(out, "\ndispatches (index, wave, level: kernel  nodes  <- input  -> outputs)");
        for (i, d) in self.dispatches.iter().enumerate() {
            let _ = writeln!(out, "  {i:>3} {:>3} {:>3}: {}", waves[i], d.level, self.dispatch_line(d));
        }
        let _ = writeln!(out, "\nmodules (dispatches in one wave run with no barrier between them; the critical path is the longest chain of dispatches that depend on each other)");
        for module in &self.modules {
            let _ = writeln!(
                out,
                "  {}: {} branches, {} dispatches in {} waves, critical path {}, {} barrier(s) inside",
                module.name,
                module.branches,
                module.dispatches.len(),
                self.module_waves(module),
                self.critical_path(module),
                self.barriers_inside(module)
            );
            for (a, b, buffer) in self.serialized_pairs(module) {
                let _ = writeln!(out, "    dispatches {a} and {b} are independent, but a barrier separates them: both use buffer {buffer}, and one writes it (wgpu tracks whole buffers)");
            }
            for &d in &module.dispatches {
                let dispatch = &self.dispatches[d];
                let _ = writeln!(out, "    wave {:>3}: {} [{}]", waves[d], dispatch.kernel.kernel_name(), dispatch.nodes.join(", "));
            }
        }
        let _ = writeln!(out, "\nbuffers (floats: tensors, in order of use)");
        for (b, size) in self.buffer_sizes.iter().enumerate() {
            let tenants: Vec<String> = (0..self.tensors.len())
                .filter(|&t| self.buffer_of[t] == Some(b))
                .map(|t| {
                    let (first, last) = self.lifetimes[t].expect("a tensor with a buffer is used");
                    format!("{} [{first}..{last}]", self.tensors[t].name)
                })
                .collect();
            let _ = writeln!(out, "  {b:>2}: {size:>9}: {}", tenants.join(", "));
        }
        out
    }
}
