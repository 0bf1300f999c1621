using Microsoft.Extensions.Logging.Abstractions;
using Switchyard.Core.Security;
using Switchyard.Gateway.Mcp;
using Switchyard.Gateway.Mcp.Registry;
using Xunit;

namespace Switchyard.Tests.Mcp.Registry;

/// <summary>The watched servers file(s): reloads, last good version on a broken edit, directories, duplicates, virtual-server checks.</summary>
public sealed class FileMcpRegistrySourceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mcp-servers-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static FileMcpRegistrySource Start(string path, Func<string, string?>? env = null)
    {
        var source = new FileMcpRegistrySource(path, new McpServersFile.Context(env ?? (_ => null), CustomHostValidator.FromEnvironment(null)),
            NullLogger.Instance, TimeProvider.System, TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(200));
        source.Start();
        return source;
    }

    /// <summary>Applies <paramref name="change"/> and waits (bounded) for the watcher's reload that satisfies <paramref name="until"/>.</summary>
    private static async Task ChangeAndWaitAsync(FileMcpRegistrySource source, Action change, Func<FileMcpRegistrySource, bool> until)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(McpRegistry _)
        {
            if (until(source))
            {
                done.TrySetResult();
            }
        }
        source.Changed += OnChanged;
        try
        {
            change();
            await done.Task.WaitAsync(TimeSpan.FromSeconds(20));
        }
        finally
        {
            source.Changed -= OnChanged;
        }
    }

    private static void Write(string path, string text)
    {
        var temp = path + ".tmp-" + Guid.NewGuid().ToString("N");
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }

    [Fact]
    public async Task A_change_applies_and_a_broken_edit_keeps_the_last_good_version_and_reports_it()
    {
        var file = Path.Combine(_dir, "servers.yaml");
        Write(file, "servers:\n  everything: {url: \"http://127.0.0.1:3001/mcp\"}\n");
        using var source = Start(file);
        Assert.Equal("ok", source.Status.State);
        Assert.Equal(["everything"], source.Current.Servers.Keys.ToArray());
        var generation = source.Status.Generation;

        await ChangeAndWaitAsync(source, () => Write(file, "servers:\n  everything: {url: \"http://127.0.0.1:3002/mcp\"}\n  memory: {command: node}\n"),
            s => s.Current.Servers.Count == 2);
        Assert.Equal(3002, source.Current.Servers["everything"].Url!.Port);
        Assert.True(source.Status.Generation > generation);

        await ChangeAndWaitAsync(source, () => Write(file, "servers:\n  everything: {url: \"ftp://nope\"}\n"), s => s.Status.State == "degraded");
        Assert.Equal(2, source.Current.Servers.Count);
        Assert.Equal(3002, source.Current.Servers["everything"].Url!.Port);
        var problem = Assert.Single(source.Status.Problems);
        Assert.Contains("servers.yaml at $.servers.everything.url", problem, StringComparison.Ordinal);
        Assert.Contains("previous version keeps serving", problem, StringComparison.Ordinal);

        await ChangeAndWaitAsync(source, () => Write(file, "servers:\n  fixed: {url: \"http://127.0.0.1:3003/mcp\"}\n"), s => s.Status.State == "ok");
        Assert.Equal(["fixed"], source.Current.Servers.Keys.ToArray());
        Assert.Empty(source.Status.Problems);
    }

    [Fact]
    public async Task A_directory_combines_its_files_and_a_duplicate_id_keeps_the_first_file()
    {
        Write(Path.Combine(_dir, "a.json"), """{"servers": {"everything": {"url": "http://127.0.0.1:1/mcp"}, "acme/fs": {"command": "node"}}}""");
        Write(Path.Combine(_dir, "b.yml"), "servers:\n  everything: {url: \"http://127.0.0.1:2/mcp\"}\n  memory: {command: node}\nvirtual_servers:\n  dev: {servers: [everything, acme/fs, memory]}\n");
        Write(Path.Combine(_dir, "notes.txt"), "ignored");
        Write(Path.Combine(_dir, ".hidden.json"), "{ broken");
        using var source = Start(_dir);
        Assert.Equal(["acme/fs", "everything", "memory"], source.Current.Servers.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(1, source.Current.Servers["everything"].Url!.Port);
        Assert.Equal("a.json", source.Current.Servers["everything"].File);
        Assert.Contains(source.Status.Problems, p => p.Contains("b.yml", StringComparison.Ordinal) && p.Contains("'everything' is also defined in a.json", StringComparison.Ordinal));
        Assert.Equal(["everything", "acme/fs", "memory"], source.Current.VirtualServers["dev"].Servers);
        Assert.Equal((3, 1), (source.Status.Servers, source.Status.VirtualServers));

        // The route model resolves what the files define.
        var route = source.Current.Resolve("v", "dev", null)!;
        Assert.Equal(3, route.Upstreams.Count);
        Assert.Equal("fs", source.Current.Resolve("acme", "fs", null)!.Upstreams[0].Name);

        await ChangeAndWaitAsync(source, () => File.Delete(Path.Combine(_dir, "a.json")), s => !s.Current.Servers.ContainsKey("acme/fs"));
        Assert.Equal(2, source.Current.Servers["everything"].Url!.Port);
        Assert.False(source.Current.VirtualServers.ContainsKey("dev"));
        Assert.Contains(source.Status.Problems, p => p.Contains("names server 'acme/fs', which no servers file defines", StringComparison.Ordinal));
    }

    [Fact]
    public void Virtual_server_members_whose_names_collide_are_refused()
    {
        Write(Path.Combine(_dir, "s.yaml"), "servers:\n  a/github: {url: \"http://127.0.0.1:1/mcp\"}\n  b/github: {url: \"http://127.0.0.1:2/mcp\"}\nvirtual_servers:\n  both: {servers: [a/github, b/github]}\n");
        using var source = Start(_dir);
        Assert.Empty(source.Current.VirtualServers);
        Assert.Equal(2, source.Current.Servers.Count);
        var problem = Assert.Single(source.Status.Problems);
        Assert.Contains("$.virtual_servers.both.servers[1]", problem, StringComparison.Ordinal);
        Assert.Contains("same name 'github'", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_path_is_reported_as_missing()
    {
        using var source = Start(Path.Combine(_dir, "absent"));
        Assert.Equal("missing", source.Status.State);
        Assert.Contains(source.Status.Problems, p => p.Contains("MCP_SERVERS_PATH does not exist", StringComparison.Ordinal));
        Assert.Empty(source.Current.Servers);
    }

    [Fact]
    public async Task A_rotated_secret_file_reloads_the_server_and_the_status_never_shows_it()
    {
        // Outside the watched directory: only the secret-file poll can notice it.
        var secretDir = Directory.CreateTempSubdirectory("mcp-secret-").FullName;
        var secret = Path.Combine(secretDir, "token");
        File.WriteAllText(secret, "first-secret-value\n");
        var file = Path.Combine(_dir, "servers.yaml");
        Write(file, "servers:\n  gh: {url: \"http://127.0.0.1:1/mcp\", headers: {Authorization: \"${GH_TOKEN}\"}}\n");
        using var source = Start(file, name => name == "GH_TOKEN" ? secret : null);
        Assert.Equal("first-secret-value", source.Current.Servers["gh"].Headers["Authorization"]);
        await ChangeAndWaitAsync(source, () => File.WriteAllText(secret, "second-secret-value"),
            s => s.Current.Servers["gh"].Headers["Authorization"] == "second-secret-value");
        var status = System.Text.Json.JsonSerializer.Serialize(source.Status);
        Assert.DoesNotContain("secret-value", status, StringComparison.Ordinal);
        Directory.Delete(secretDir, recursive: true);
    }

    [Fact]
    public void The_services_register_the_file_source_and_the_connector()
    {
        Write(Path.Combine(_dir, "s.yaml"), "servers:\n  a: {url: \"http://127.0.0.1:1/mcp\"}\n");
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddMcpRegistry(new McpOptions { ServersPath = _dir });
        using var provider = services.BuildServiceProvider();
        var registry = provider.GetRequiredService<IMcpRegistrySource>();
        Assert.IsType<FileMcpRegistrySource>(registry);
        Assert.Equal(["a"], registry.Current.Servers.Keys.ToArray());
        Assert.IsType<McpConnector>(provider.GetRequiredService<IMcpUpstreamConnector>());
    }
}
