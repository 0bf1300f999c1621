namespace Switchyard.Bench;

/// <summary>Entry point of the benchmark helper. bench/run.sh calls one command per step.</summary>
public static class Program
{
    private const string Usage = """
        usage: Switchyard.Bench <command> [options]
          fixtures  --out DIR                      write request and response fixtures (deterministic)
          ttfb      --url U --body FILE [--header 'Name: value']... [--n 200] [--c 1] [--warmup N]
                    [--label L] [--timeout-s 30]   streaming client: TTFB, first event, total, inter-event gaps
          paced-sse --port P [--interval-ms 5] [--sse FILE]
                                                   paced SSE upstream on 127.0.0.1 (first event at once)
          summarize --dir RESULTS_DIR              results.json + summary.md from the run's *.jsonl files
        """;

    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }

        try
        {
            var options = CommandLine.Parse(args.AsSpan(1));
            return args[0] switch
            {
                "fixtures" => Fixtures.Write(options.Required("out")),
                "ttfb" => await TtfbCommand.RunAsync(options).ConfigureAwait(false),
                "paced-sse" => await PacedSseServer.RunAsync(options).ConfigureAwait(false),
                "summarize" => Summary.Run(options.Required("dir")),
                _ => throw new ArgumentException($"unknown command '{args[0]}'"),
            };
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message + Environment.NewLine + Usage).ConfigureAwait(false);
            return 2;
        }
    }
}

/// <summary><c>--name value</c> options; a name given more than once keeps every value.</summary>
internal sealed class CommandLine
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);

    public static CommandLine Parse(ReadOnlySpan<string> args)
    {
        var result = new CommandLine();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"expected '--name value', got '{arg}'");
            }

            var name = arg[2..];
            if (!result._values.TryGetValue(name, out var list))
            {
                result._values[name] = list = [];
            }

            list.Add(args[++i]);
        }

        return result;
    }

    public string Required(string name) =>
        Optional(name) ?? throw new ArgumentException($"--{name} is required");

    public string? Optional(string name) =>
        _values.TryGetValue(name, out var list) ? list[^1] : null;

    public int Int(string name, int fallback) =>
        Optional(name) is { } text
            ? int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value)
                ? value
                : throw new ArgumentException($"--{name} takes an integer, got '{text}'")
            : fallback;

    public IReadOnlyList<string> All(string name) =>
        _values.TryGetValue(name, out var list) ? list : [];
}
