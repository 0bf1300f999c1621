using System.Text;
using System.Text.Json;

namespace Switchyard.Tests.Infrastructure;

/// <summary>
/// The parts of <c>deploy/docker/Dockerfile</c> the tests reproduce: the build stage's <c>dotnet publish</c> line and the
/// runtime stage's ENV, USER, WORKDIR, COPY, EXPOSE and ENTRYPOINT. Read from the file, so the tests and the image cannot drift.
/// </summary>
/// <remarks>
/// A small reader for the instructions that file uses, not a general Dockerfile parser: line continuations, comments,
/// <c>ARG</c> defaults substituted as <c>$NAME</c>/<c>${NAME}</c>, <c>ENV</c> in <c>K=V</c> form (double quotes allowed),
/// exec-form <c>ENTRYPOINT</c>. Anything else in the runtime stage fails loudly, so a new instruction is noticed here.
/// </remarks>
public sealed class Dockerfile
{
    /// <summary>One instruction: its keyword (upper case), its flags (<c>--from=build</c>) and the rest of the line.</summary>
    public sealed record Instruction(string Keyword, IReadOnlyDictionary<string, string> Flags, string Arguments);

    /// <summary>A stage: its base image, its name and its instructions.</summary>
    public sealed record Stage(string Image, string? Name, IReadOnlyList<Instruction> Instructions);

    /// <summary>A <c>COPY</c> into the image: from the build context (<see cref="FromStage"/> null) or from another stage.</summary>
    public sealed record Copy(string? FromStage, IReadOnlyList<string> Sources, string Destination);

    /// <summary>The base image's own environment (mcr.microsoft.com/dotnet/runtime-deps, dotnet/dotnet-docker's Dockerfile), under ours.</summary>
    public static readonly IReadOnlyList<KeyValuePair<string, string>> RuntimeDepsBaseEnvironment =
    [
        new("APP_UID", "1654"),
        new("ASPNETCORE_HTTP_PORTS", "8080"),
        new("DOTNET_RUNNING_IN_CONTAINER", "true"),
        new("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "true"),
    ];

    /// <summary>What a container runtime adds for a user with no <c>/etc/passwd</c> entry (docker, containerd).</summary>
    public static readonly IReadOnlyList<KeyValuePair<string, string>> RuntimeEnvironment =
    [
        new("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
        new("HOME", "/"),
    ];

    public static string DefaultPath => Path.Combine(RepoPaths.Root, "deploy", "docker", "Dockerfile");

    public IReadOnlyList<Stage> Stages { get; }

    /// <summary>ARG defaults, global and per stage (the file does not redeclare one name with two defaults).</summary>
    public IReadOnlyDictionary<string, string> Args { get; }

    private Dockerfile(IReadOnlyList<Stage> stages, IReadOnlyDictionary<string, string> args)
    {
        Stages = stages;
        Args = args;
    }

    public static Dockerfile Load(string? path = null) => Parse(File.ReadAllText(path ?? DefaultPath));

    public static Dockerfile Parse(string text)
    {
        var stages = new List<Stage>();
        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        string? image = null, name = null;
        var current = new List<Instruction>();
        foreach (var line in LogicalLines(text))
        {
            var space = line.IndexOf(' ', StringComparison.Ordinal);
            var keyword = (space < 0 ? line : line[..space]).ToUpperInvariant();
            var rest = space < 0 ? "" : line[(space + 1)..].Trim();
            var flags = new Dictionary<string, string>(StringComparer.Ordinal);
            while (rest.StartsWith("--", StringComparison.Ordinal))
            {
                var end = rest.IndexOf(' ', StringComparison.Ordinal);
                var flag = end < 0 ? rest : rest[..end];
                var eq = flag.IndexOf('=', StringComparison.Ordinal);
                flags[eq < 0 ? flag[2..] : flag[2..eq]] = eq < 0 ? "" : flag[(eq + 1)..];
                rest = end < 0 ? "" : rest[(end + 1)..].Trim();
            }
            switch (keyword)
            {
                case "FROM":
                    if (image is not null)
                    {
                        stages.Add(new Stage(image, name, current));
                    }
                    var parts = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    image = parts[0];
                    name = parts.Length == 3 && parts[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? parts[2] : null;
                    current = [];
                    break;
                case "ARG":
                    var a = rest.Split('=', 2);
                    if (a.Length == 2)
                    {
                        args[a[0]] = Unquote(a[1]);
                    }
                    current.Add(new Instruction(keyword, flags, rest));
                    break;
                default:
                    if (image is null)
                    {
                        throw new FormatException($"Dockerfile: {keyword} before FROM");
                    }
                    current.Add(new Instruction(keyword, flags, rest));
                    break;
            }
        }
        if (image is null)
        {
            throw new FormatException("Dockerfile: no FROM");
        }
        stages.Add(new Stage(image, name, current));
        return new Dockerfile(stages, args);
    }

    /// <summary>Comment lines dropped, <c>\</c> continuations joined, the parser directive (<c># syntax=</c>) ignored.</summary>
    private static IEnumerable<string> LogicalLines(string text)
    {
        var pending = new StringBuilder();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r').Trim();
            if (line.StartsWith('#') || (line.Length == 0 && pending.Length == 0))
            {
                continue;
            }
            if (line.EndsWith('\\'))
            {
                pending.Append(line[..^1]).Append(' ');
                continue;
            }
            pending.Append(line);
            var logical = pending.ToString().Trim();
            pending.Clear();
            if (logical.Length > 0)
            {
                yield return logical;
            }
        }
        if (pending.Length > 0)
        {
            yield return pending.ToString().Trim();
        }
    }

    /// <summary>The stage named <paramref name="name"/>.</summary>
    public Stage Named(string name) => Stages.Single(s => s.Name == name);

    /// <summary>The last stage: the image that ships.</summary>
    public Stage Runtime => Stages[^1];

    /// <summary>Substitutes <c>$NAME</c> and <c>${NAME}</c> with ARG defaults (or <paramref name="overrides"/>, like <c>--build-arg</c>).</summary>
    public string Expand(string value, IReadOnlyDictionary<string, string>? overrides = null)
    {
        foreach (var (key, v) in Args.Concat(overrides ?? new Dictionary<string, string>()).Reverse().DistinctBy(p => p.Key))
        {
            value = value.Replace("${" + key + "}", v, StringComparison.Ordinal);
            value = System.Text.RegularExpressions.Regex.Replace(value, @"\$" + key + @"\b", v.Replace("$", "$$", StringComparison.Ordinal));
        }
        return value;
    }

    /// <summary>
    /// The build stage's <c>RUN dotnet publish …</c> as an argument list (without <c>dotnet</c>), ARGs substituted.
    /// Split on spaces: the line uses no quoting, which <see cref="PublishCommand"/> checks.
    /// </summary>
    public IReadOnlyList<string> PublishCommand(IReadOnlyDictionary<string, string>? buildArgs = null)
    {
        var run = Stages.SelectMany(s => s.Instructions)
            .Where(i => i.Keyword == "RUN" && i.Arguments.StartsWith("dotnet publish ", StringComparison.Ordinal))
            .ToList();
        if (run.Count != 1)
        {
            throw new FormatException($"Dockerfile: expected one 'RUN dotnet publish …', found {run.Count}");
        }
        var line = Expand(run[0].Arguments, buildArgs);
        if (line.IndexOfAny(['"', '\'', '&', '|', ';', '$']) >= 0)
        {
            throw new FormatException($"Dockerfile: the publish line must be one plain command: {line}");
        }
        return line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..];
    }

    /// <summary>The value after <c>-o</c>/<c>--output</c> in the publish command: where the build stage puts the gateway.</summary>
    public string PublishOutput => OptionValue(PublishCommand(), "-o", "--output")
        ?? throw new FormatException("Dockerfile: the publish line has no -o");

    internal static string? OptionValue(IReadOnlyList<string> args, params string[] names)
    {
        for (var i = 0; i < args.Count - 1; i++)
        {
            if (names.Contains(args[i]))
            {
                return args[i + 1];
            }
        }
        return null;
    }

    /// <summary>The environment the container starts with: the runtime's, the base image's, then the runtime stage's ENV lines.</summary>
    public IReadOnlyDictionary<string, string> ContainerEnvironment()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in RuntimeEnvironment.Concat(RuntimeDepsBaseEnvironment).Concat(Env(Runtime)))
        {
            env[k] = v;
        }
        return env;
    }

    private List<KeyValuePair<string, string>> Env(Stage stage)
    {
        var env = new List<KeyValuePair<string, string>>();
        foreach (var i in stage.Instructions.Where(i => i.Keyword == "ENV"))
        {
            foreach (var (k, v) in EnvPairs(i.Arguments))
            {
                env.Add(new(k, Expand(v)));
            }
        }
        return env;
    }

    /// <summary><c>K=V K2="v 2"</c>; also the legacy one-pair <c>K V</c> form.</summary>
    internal static IEnumerable<KeyValuePair<string, string>> EnvPairs(string arguments)
    {
        var eq = arguments.IndexOf('=', StringComparison.Ordinal);
        var sp = arguments.IndexOf(' ', StringComparison.Ordinal);
        if (eq < 0 || (sp >= 0 && sp < eq))
        {
            yield return new(arguments[..sp], arguments[(sp + 1)..].Trim());
            yield break;
        }
        var i = 0;
        while (i < arguments.Length)
        {
            while (i < arguments.Length && arguments[i] == ' ')
            {
                i++;
            }
            if (i >= arguments.Length)
            {
                break;
            }
            var keyEnd = arguments.IndexOf('=', i);
            var key = arguments[i..keyEnd];
            i = keyEnd + 1;
            var value = new StringBuilder();
            var quoted = false;
            while (i < arguments.Length && (quoted || arguments[i] != ' '))
            {
                var c = arguments[i++];
                if (c == '"')
                {
                    quoted = !quoted;
                }
                else if (c == '\\' && i < arguments.Length)
                {
                    value.Append(arguments[i++]);
                }
                else
                {
                    value.Append(c);
                }
            }
            yield return new(key, value.ToString());
        }
    }

    private static string Unquote(string v) => v.Length >= 2 && v[0] == '"' && v[^1] == '"' ? v[1..^1] : v;

    private string Single(string keyword) =>
        Runtime.Instructions.Last(i => i.Keyword == keyword).Arguments;

    /// <summary>The runtime stage's <c>USER</c> as uid and gid (numeric, as a read-only, passwd-less image needs).</summary>
    public (int Uid, int Gid) User
    {
        get
        {
            var parts = Single("USER").Split(':');
            return (int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture),
                int.Parse(parts.Length > 1 ? parts[1] : parts[0], System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    public string WorkDir => Single("WORKDIR");

    /// <summary>The exec-form ENTRYPOINT.</summary>
    public IReadOnlyList<string> Entrypoint => JsonSerializer.Deserialize<string[]>(Single("ENTRYPOINT"))
        ?? throw new FormatException("Dockerfile: ENTRYPOINT must be exec form");

    public IReadOnlyList<int> Exposed => Single("EXPOSE").Split(' ', StringSplitOptions.RemoveEmptyEntries)
        .Select(p => int.Parse(p.Split('/')[0], System.Globalization.CultureInfo.InvariantCulture)).ToList();

    /// <summary>The runtime stage's COPY lines.</summary>
    public IReadOnlyList<Copy> Copies => Runtime.Instructions.Where(i => i.Keyword == "COPY").Select(i =>
    {
        var parts = i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return new Copy(i.Flags.GetValueOrDefault("from"), parts[..^1], parts[^1]);
    }).ToList();

    /// <summary>Instructions of the runtime stage this reader knows how to reproduce; any other is an error the tests report.</summary>
    public static readonly IReadOnlySet<string> ReproducedRuntimeInstructions =
        new HashSet<string>(["WORKDIR", "COPY", "ENV", "USER", "EXPOSE", "ENTRYPOINT", "ARG"], StringComparer.Ordinal);

    /// <summary>
    /// Lays out the image's filesystem additions under <paramref name="root"/> (a directory standing for <c>/</c>): each
    /// runtime-stage COPY, from the build context (the repository) or from the build stage's publish output
    /// (<paramref name="publishOutput"/> standing for the Dockerfile's <c>-o</c> directory).
    /// </summary>
    public void LayOut(string root, string publishOutput)
    {
        var unknown = Runtime.Instructions.Select(i => i.Keyword).Where(k => !ReproducedRuntimeInstructions.Contains(k)).ToList();
        if (unknown.Count > 0)
        {
            throw new FormatException($"Dockerfile: the runtime stage has instructions the tests do not reproduce: {string.Join(", ", unknown)}");
        }
        foreach (var copy in Copies)
        {
            foreach (var source in copy.Sources)
            {
                string from;
                if (copy.FromStage is null)
                {
                    from = Path.Combine(RepoPaths.Root, source.TrimEnd('/'));
                }
                else
                {
                    var output = PublishOutput.TrimEnd('/');
                    var path = source.TrimEnd('/');
                    if (path != output && !path.StartsWith(output + "/", StringComparison.Ordinal))
                    {
                        throw new FormatException($"Dockerfile: COPY --from={copy.FromStage} {source} is not under the publish output {output}");
                    }
                    from = publishOutput + path[output.Length..];
                }
                var destination = Path.Combine(root, copy.Destination.TrimStart('/'));
                if (Directory.Exists(from))
                {
                    CopyDirectory(from, destination);
                }
                else
                {
                    var target = copy.Destination.EndsWith('/') ? Path.Combine(destination, Path.GetFileName(from)) : destination;
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    File.Copy(from, target, overwrite: true);
                }
            }
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        }
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            File.Copy(file, target, overwrite: true);
            if (!OperatingSystem.IsWindows())
            {
                // COPY keeps the mode bits, the executable's x among them.
                File.SetUnixFileMode(target, File.GetUnixFileMode(file));
            }
        }
    }
}
