fn main() {
    let protoc = protoc_bin_vendored::protoc_bin_path().expect("vendored protoc");
    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc);
    config
        .compile_protos(&["proto/onnx.proto"], &["proto"])
        .expect("compile onnx.proto");
    println!("cargo:rerun-if-changed=proto/onnx.proto");
}
