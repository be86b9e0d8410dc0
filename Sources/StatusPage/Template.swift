import Mustache

/// A mustache template compiled once. The templates are constants in this target; one that does
/// not parse is a bug the tests catch, so it renders its parse error rather than crashing the server.
struct Template: Sendable {
    private let compiled: Result<MustacheTemplate, any Error>

    init(_ text: String) {
        compiled = Result { try MustacheTemplate(string: text) }
    }

    /// `{{ }}` escapes `< > & " '`, so what came from disk or Prometheus is safe in HTML text and
    /// in quoted attributes (SVG's included).
    func render(_ object: Any) -> String {
        switch compiled {
        case .success(let template): template.render(object)
        case .failure(let error): "template error: \(error)"
        }
    }
}

/// A mustache context object read by name without reflection: the renderer looks a name up with
/// `child(named:)`, which is a dictionary lookup here rather than a `Mirror` walk per variable
/// (ten thousand bars would otherwise cost a mirror each per attribute).
struct Fields: MustacheParent, Sendable {
    private var values: [String: any Sendable]

    init(_ values: [String: any Sendable]) { self.values = values }

    func child(named name: String) -> Any? { values[name] }
}
