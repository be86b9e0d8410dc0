/// The page's layout (header, cards, tables), shared by every page. Inline: the page loads
/// nothing else, so it works where the sidecar has no internet (and through any proxy).
enum PageStyle {
    static let head = """
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>
        body { font-family: system-ui, sans-serif; margin: 0; color: #1d1d1d; background: #f4f5f7; }
        header { background: #1f2d3d; color: #fff; padding: 12px 24px; }
        header h1 { font-size: 20px; margin: 0; }
        header a { color: #cfe3ff; }
        main { padding: 16px 24px; }
        section { background: #fff; border: 1px solid #d9dce1; border-radius: 6px; padding: 12px 16px; margin-bottom: 16px; }
        h2 { font-size: 16px; margin: 0 0 8px; }
        .cards { display: flex; flex-wrap: wrap; gap: 16px; }
        .cards section { flex: 1 1 420px; }
        table { border-collapse: collapse; font-size: 14px; }
        th, td { text-align: left; padding: 3px 10px 3px 0; vertical-align: top; }
        th { color: #555; font-weight: 600; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        code, .mono { font-family: ui-monospace, monospace; font-size: 13px; }
        .ok { color: #00704f; font-weight: 600; }
        .bad { color: #b03a00; font-weight: 600; }
        .swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 6px; }
        .timeline-box { overflow-x: auto; }
        .error { color: #8a2c00; white-space: pre-wrap; word-break: break-word; }
        .muted { color: #666; }
        progress { width: 160px; }
        </style>
        """
}
