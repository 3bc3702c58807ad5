import Foundation
import GitRAGTestSupport

/// Builds archives with Python's tarfile/zipfile (stdlib), so tests need no zip or xz binaries
/// and can write entries `tar` refuses to create (absolute paths, devices, invalid UTF-8 names).
enum ArchiveMaker {
  /// One entry: `kind` is file, dir, symlink, hardlink or chr; `name` may be raw bytes (hex).
  struct Entry: Encodable {
    var name: String
    var kind = "file"
    var text = ""
    var target = ""
    var nameHex: String? = nil
    /// Repeat `text` this many times (zip bombs).
    var times = 1
  }

  static let script = #"""
    import json, sys, tarfile, zipfile, io
    out, fmt, spec = sys.argv[1], sys.argv[2], json.loads(sys.stdin.read())
    def raw(e):
        return bytes.fromhex(e["nameHex"]) if e.get("nameHex") else e["name"].encode()
    if fmt == "zip":
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for e in spec:
                data = (e["text"] * e["times"]).encode()
                if e["kind"] == "dir":
                    z.writestr(e["name"] + "/", b"")
                elif e["kind"] == "symlink":
                    info = zipfile.ZipInfo(e["name"])
                    info.external_attr = (0o120777 << 16)
                    info.create_system = 3
                    z.writestr(info, e["target"])
                else:
                    info = zipfile.ZipInfo(e["name"])
                    info.compress_type = zipfile.ZIP_DEFLATED
                    if e.get("nameHex"):
                        info.filename = raw(e).decode("latin-1")
                        info.orig_filename = info.filename
                    z.writestr(info, data)
    else:
        mode = {"tar": "w", "tgz": "w:gz", "tbz2": "w:bz2", "txz": "w:xz"}[fmt]
        with tarfile.open(out, mode, format=tarfile.GNU_FORMAT, encoding="utf-8", errors="surrogateescape") as t:
            for e in spec:
                name = raw(e).decode("utf-8", "surrogateescape")
                info = tarfile.TarInfo(name)
                data = (e["text"] * e["times"]).encode()
                kind = e["kind"]
                if kind == "dir":
                    info.type = tarfile.DIRTYPE; t.addfile(info)
                elif kind == "symlink":
                    info.type = tarfile.SYMTYPE; info.linkname = e["target"]; t.addfile(info)
                elif kind == "hardlink":
                    info.type = tarfile.LNKTYPE; info.linkname = e["target"]; t.addfile(info)
                elif kind == "chr":
                    info.type = tarfile.CHRTYPE; info.devmajor = 1; info.devminor = 3; t.addfile(info)
                else:
                    info.size = len(data); t.addfile(info, io.BytesIO(data))
    """#

  /// Writes the archive at `url` in `format` (tar, tgz, tbz2, txz, zip).
  static func make(_ url: URL, format: String, entries: [Entry]) throws {
    let spec = try JSONEncoder().encode(entries)
    try runProcess("python3", ["-c", script, url.path, format], input: spec)
  }

  /// `count` tiny files in a plain tar, written by a loop in Python (fast for 100,000 entries).
  static func makeMany(_ url: URL, count: Int) throws {
    let script = """
      import io, sys, tarfile
      with tarfile.open(sys.argv[1], "w") as t:
          for i in range(int(sys.argv[2])):
              info = tarfile.TarInfo(f"f/{i}.txt"); info.size = 1; t.addfile(info, io.BytesIO(b"x"))
      """
    try runProcess("python3", ["-c", script, url.path, String(count)])
  }
}
