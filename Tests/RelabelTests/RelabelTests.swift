import Relabel
import SkiffCore
import Testing

/// Prometheus' relabelling, checked against cases from Prometheus' own `relabel_test.go`.
@Suite struct RelabelTests {
    let input: LabelSet = ["a": "foo", "b": "bar", "c": "baz"]

    func rules(_ yaml: String, allowed: Set<RelabelConfig.Action>? = nil) throws -> [RelabelConfig] {
        try RelabelConfig.parseList(yaml: yaml, source: "test", allowed: allowed)
    }

    @Test func keepAndDropMatchTheWholeJoinedValue() throws {
        #expect(Relabel.process(input, try rules("- source_labels: [a]\n  regex: f.*\n  action: keep\n")) == input)
        // Anchored: "o" alone does not match "foo".
        #expect(Relabel.process(input, try rules("- source_labels: [a]\n  regex: o\n  action: keep\n")) == nil)
        #expect(Relabel.process(input, try rules("- source_labels: [a, b]\n  regex: foo;bar\n  action: drop\n")) == nil)
        #expect(
            Relabel.process(input, try rules("- source_labels: [a, b]\n  separator: '-'\n  regex: foo;bar\n  action: drop\n"))
                == input)
        // A missing label reads as "".
        #expect(Relabel.process(input, try rules("- source_labels: [zzz]\n  regex: ''\n  action: keep\n")) == input)
    }

    @Test func hashmodIsPrometheusMD5() throws {
        let out = Relabel.process(
            input, try rules("- source_labels: [c]\n  target_label: d\n  modulus: 1000\n  action: hashmod\n"))
        #expect(out?["d"] == "976")  // Prometheus' relabel_test.go: md5("baz") mod 1000
        #expect(Relabel.hashMod("baz", 1000) == 976)
    }

    @Test func replaceExpandsGroupsAsGoDoes() throws {
        let out = Relabel.process(
            input,
            try rules("- source_labels: [a]\n  regex: f(.*)\n  target_label: d\n  replacement: ch${1}-ch${1}\n"))
        #expect(out?["d"] == "choo-choo")
        // Go's $1x is the group named "1x", which does not exist: empty, so the label is removed.
        let empty = Relabel.process(
            input, try rules("- source_labels: [a]\n  regex: f(.*)\n  target_label: a\n  replacement: $1x\n"))
        #expect(empty?["a"] == nil)
        let named = Relabel.process(
            input, try rules("- source_labels: [a]\n  regex: (?P<first>f)(.*)\n  target_label: e\n  replacement: $first-$$\n"))
        #expect(named?["e"] == "f-$")
        // No match: unchanged.
        #expect(
            Relabel.process(input, try rules("- source_labels: [a]\n  regex: x(.*)\n  target_label: d\n")) == input)
    }

    @Test func labelActions() throws {
        #expect(Relabel.process(input, try rules("- regex: (b|c)\n  action: labeldrop\n")) == ["a": "foo"])
        #expect(Relabel.process(input, try rules("- regex: (b|c)\n  action: labelkeep\n")) == ["b": "bar", "c": "baz"])
        #expect(
            Relabel.process(input, try rules("- regex: (b.*)\n  replacement: bar_${1}\n  action: labelmap\n"))
                == ["a": "foo", "b": "bar", "bar_b": "bar", "c": "baz"])
        #expect(
            Relabel.process(input, try rules("- source_labels: [a]\n  target_label: A\n  action: uppercase\n"))?["A"] == "FOO")
        #expect(Relabel.process(input, try rules("- source_labels: [a]\n  target_label: a\n  action: keepequal\n")) == input)
        #expect(Relabel.process(input, try rules("- source_labels: [a]\n  target_label: b\n  action: keepequal\n")) == nil)
        #expect(Relabel.process(input, try rules("- source_labels: [a]\n  target_label: a\n  action: dropequal\n")) == nil)
    }

    @Test func configsAreValidatedAsPrometheusValidatesThem() throws {
        func message(_ yaml: String, allowed: Set<RelabelConfig.Action>? = nil) -> String {
            do {
                _ = try rules(yaml, allowed: allowed)
                return ""
            } catch let error as SkiffError {
                return error.message
            } catch {
                return "\(error)"
            }
        }
        #expect(message("- action: hashmod\n  target_label: x\n").contains("requires non-zero modulus"))
        #expect(message("- action: replace\n  source_labels: [a]\n").contains("requires 'target_label'"))
        #expect(message("- action: labeldrop\n  regex: a\n  target_label: x\n").contains("requires only 'regex'"))
        #expect(message("- action: bogus\n").contains("unknown relabel action \"bogus\""))
        #expect(message("- regex: '(a'\n  action: keep\n").contains("is invalid"))
        #expect(message("- action: keep\n  regexp: a\n").contains("unknown key \"regexp\""))
        #expect(message("action: keep\n").contains("must be a YAML list"))
        // Thanos' block selector allows keep, drop and hashmod only.
        let selector: Set<RelabelConfig.Action> = [.keep, .drop, .hashmod]
        #expect(
            message("- regex: a\n  action: labeldrop\n", allowed: selector).contains("unsupported relabel action: labeldrop"))
        #expect(message("- action: KEEP\n  source_labels: [a]\n", allowed: selector) == "")  // case-insensitive
        #expect(try rules("").isEmpty)
    }
}
