//! An image in, its top-5 classes out:
//! `cargo run --release --example classify -- photo.jpg [model.onnx|model.safetensors]`
//! (without a model, the built-in network with synthetic weights: the classes are meaningless).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let photo = args.next().ok_or("usage: classify IMAGE [MODEL]")?;
    let session = match args.next() {
        Some(model) => googlenet::Session::open(model)?,
        None => googlenet::Session::builtin()?,
    };
    let image = googlenet::image::open(&photo)?;
    for p in &session.classify(&[image], 5)?[0] {
        println!("{:>7.4}  {:>4}  {}", p.probability, p.class, p.label);
    }
    Ok(())
}
