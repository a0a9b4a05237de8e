//! The shipped wasm must be WebAssembly 1.0 (MVP plus mutable-globals) and export no globals: iOS runs
//! the module without newer instructions and refuses exported globals. The check reads the file as
//! shipped (`dist/mpchat/mpchat_bg.wasm.br`, built by `make build`) with a validator limited to those
//! features; binaryen would trust the module's own feature section instead.
#![cfg(not(target_arch = "wasm32"))]

use std::io::Read;
use std::path::Path;

use wasmparser::{ExternalKind, Parser, Payload, Validator, WasmFeatures};

fn check_wasm1(bytes: &[u8]) -> Result<(), String> {
    Validator::new_with_features(WasmFeatures::WASM1)
        .validate_all(bytes)
        .map_err(|e| format!("not WebAssembly 1.0: {e}"))?;
    for payload in Parser::new(0).parse_all(bytes) {
        if let Payload::ExportSection(exports) = payload.map_err(|e| e.to_string())? {
            for export in exports {
                let export = export.map_err(|e| e.to_string())?;
                if export.kind == ExternalKind::Global {
                    return Err(format!("exports the global {:?}", export.name));
                }
            }
        }
    }
    Ok(())
}

#[test]
fn shipped_wasm_is_webassembly_1_0_without_exported_globals() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/mpchat/mpchat_bg.wasm.br");
    let compressed = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run `make build` first", path.display()));
    let mut wasm = Vec::new();
    brotli_decompressor::Decompressor::new(compressed.as_slice(), 4096)
        .read_to_end(&mut wasm)
        .expect("the .wasm.br is valid brotli");
    assert_eq!(check_wasm1(&wasm), Ok(()));
}

// Hand-assembled modules prove the check rejects what phones reject.
const HEADER: [u8; 8] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

#[test]
fn sign_extension_instructions_are_rejected() {
    let mut module = HEADER.to_vec();
    // type (i32) -> i32; one function; body: local.get 0; i32.extend8_s; end
    module.extend([0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f]);
    module.extend([0x03, 0x02, 0x01, 0x00]);
    module.extend([0x0a, 0x07, 0x01, 0x05, 0x00, 0x20, 0x00, 0xc0, 0x0b]);
    let err = check_wasm1(&module).unwrap_err();
    assert!(err.contains("not WebAssembly 1.0"), "{err}");
}

#[test]
fn exported_globals_are_rejected() {
    let mut module = HEADER.to_vec();
    // global (mut i32) = 0, exported as "g"
    module.extend([0x06, 0x06, 0x01, 0x7f, 0x01, 0x41, 0x00, 0x0b]);
    module.extend([0x07, 0x05, 0x01, 0x01, b'g', 0x03, 0x00]);
    assert_eq!(check_wasm1(&module), Err("exports the global \"g\"".to_string()));
}
