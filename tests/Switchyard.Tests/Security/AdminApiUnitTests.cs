using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Switchyard.Core.Configs;
using Switchyard.Core.Limits;
using Switchyard.Core.Security.ApiKeys;
using Switchyard.Core.Security.VirtualKeys;
using Switchyard.Gateway.Endpoints.Admin;
using Xunit;

namespace Switchyard.Tests.Security;

/// <summary>The admin API's parts without a server: usage from a fake <see cref="ILimitUsage"/>, virtual keys, the key-file writer, settings.</summary>
public sealed class AdminApiUnitTests
{
    private sealed class FakeUsage(Dictionary<LimitSubject, IReadOnlyList<LimitStatus>> rules, LimitSubject? broken = null) : ILimitUsage
    {
        public IReadOnlyList<LimitSubject> Subjects => [.. rules.Keys, .. broken is { } b ? new[] { b } : []];

        public ValueTask<IReadOnlyList<LimitStatus>> StatusAsync(LimitSubject subject, CancellationToken ct) =>
            subject == broken ? throw new IOException("redis is down") : ValueTask.FromResult(rules[subject]);
    }

    private static readonly LimitRule PerMinute = new(LimitKind.RateLimit, LimitUnit.Requests, LimitWindow.Minute, 100, []);
    private static readonly LimitRule Monthly = new(LimitKind.Budget, LimitUnit.Cost, LimitWindow.Month, 50, [0.5m, 0.8m]);
    private static readonly DateTimeOffset Reset = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static FakeUsage Usage(LimitSubject? broken = null)
    {
        var team = new LimitSubject(LimitSubjectKind.Team, "payments");
        var vk = new LimitSubject(LimitSubjectKind.VirtualKey, "openai-prod");
        return new FakeUsage(new Dictionary<LimitSubject, IReadOnlyList<LimitStatus>>
        {
            [team] = [new LimitStatus(team, PerMinute, 40, 60, Reset, "redis"), new LimitStatus(team, Monthly, 12.25m, 37.75m, null, "local")],
            [vk] = [new LimitStatus(vk, PerMinute, 1, 99, Reset, "redis")],
        }, broken);
    }

    private static async Task<(int Status, JsonElement Body)> RunAsync(Func<HttpContext, Task> handler)
    {
        var context = new DefaultHttpContext();
        var body = new MemoryStream();
        context.Response.Body = body;
        await handler(context);
        return (context.Response.StatusCode, JsonDocument.Parse(body.ToArray()).RootElement.Clone());
    }

    private static AdminUsageEndpoint Endpoint(ILimitUsage? usage) => new(() => usage, NullLogger<AdminUsageEndpoint>.Instance);

    [Fact]
    public async Task Usage_lists_every_subject_with_used_remaining_reset_and_source()
    {
        var (status, body) = await RunAsync(Endpoint(Usage()).ListAsync);
        Assert.Equal(200, status);
        Assert.True(body.GetProperty("limits_configured").GetBoolean());
        var subjects = body.GetProperty("subjects").EnumerateArray().ToList();
        Assert.Equal([("team", "payments"), ("virtual-key", "openai-prod")],
            subjects.Select(s => (s.GetProperty("kind").GetString()!, s.GetProperty("name").GetString()!)));
        var rules = subjects[0].GetProperty("rules");
        Assert.Equal("100 requests per minute", rules[0].GetProperty("description").GetString());
        Assert.Equal(40, rules[0].GetProperty("used").GetDecimal());
        Assert.Equal(60, rules[0].GetProperty("remaining").GetDecimal());
        Assert.Equal(Reset, rules[0].GetProperty("resets_at").GetDateTimeOffset());
        Assert.Equal("redis", rules[0].GetProperty("source").GetString());
        Assert.Equal("budget", rules[1].GetProperty("kind").GetString());
        Assert.Equal("cost_usd", rules[1].GetProperty("unit").GetString());
        Assert.Equal(12.25m, rules[1].GetProperty("used").GetDecimal());
        Assert.Equal(JsonValueKind.Null, rules[1].GetProperty("resets_at").ValueKind);
        Assert.Equal("local", rules[1].GetProperty("source").GetString());
        Assert.Equal([0.5m, 0.8m], rules[1].GetProperty("alert_thresholds").EnumerateArray().Select(t => t.GetDecimal()));
    }

    [Fact]
    public async Task Usage_of_one_subject_and_its_errors()
    {
        var endpoint = Endpoint(Usage(broken: new LimitSubject(LimitSubjectKind.Key, "flaky")));
        var (status, body) = await RunAsync(c => endpoint.GetAsync(c, "virtual-key", "openai-prod"));
        Assert.Equal(200, status);
        Assert.Equal(99, body.GetProperty("rules")[0].GetProperty("remaining").GetDecimal());

        Assert.Equal(404, (await RunAsync(c => endpoint.GetAsync(c, "team", "nobody"))).Status);
        var (badStatus, bad) = await RunAsync(c => endpoint.GetAsync(c, "teams", "payments"));
        Assert.Equal(400, badStatus);
        Assert.Contains("virtual-key", bad.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        var (downStatus, down) = await RunAsync(c => endpoint.GetAsync(c, "key", "flaky"));
        Assert.Equal(503, downStatus);
        Assert.DoesNotContain("redis is down", down.GetRawText(), StringComparison.Ordinal);

        // In the full list, the unreadable subject carries an error and the others still show.
        var (listStatus, list) = await RunAsync(endpoint.ListAsync);
        Assert.Equal(200, listStatus);
        var flaky = list.GetProperty("subjects").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "flaky");
        Assert.True(flaky.TryGetProperty("error", out _));
        Assert.Equal(3, list.GetProperty("subjects").GetArrayLength());
    }

    [Fact]
    public async Task Without_limits_usage_is_an_empty_list_that_says_so()
    {
        var (status, body) = await RunAsync(Endpoint(null).ListAsync);
        Assert.Equal(200, status);
        Assert.False(body.GetProperty("limits_configured").GetBoolean());
        Assert.Equal(0, body.GetProperty("subjects").GetArrayLength());
        Assert.Equal("No rate limits or budgets are configured", body.GetProperty("message").GetString());
        var (oneStatus, one) = await RunAsync(c => Endpoint(null).GetAsync(c, "key", "alice"));
        Assert.Equal(200, oneStatus);
        Assert.Equal(0, one.GetProperty("rules").GetArrayLength());
    }

    [Fact]
    public async Task Virtual_keys_are_listed_without_credentials()
    {
        VirtualKey[] keys =
        [
            new() { Slug = "openai-prod", Provider = "openai", Description = "prod", Models = new[] { "gpt-4o" }.ToFrozenSet(), Limits = [Monthly], File = "vk.yaml" },
            new() { Slug = "anthropic", Provider = "anthropic", File = "vk.yaml" },
        ];
        var (status, body) = await RunAsync(c => AdminVirtualKeys.ListAsync(c, keys));
        Assert.Equal(200, status);
        Assert.Equal(2, body.GetProperty("count").GetInt32());
        var list = body.GetProperty("virtual_keys");
        Assert.Equal("anthropic", list[0].GetProperty("slug").GetString());
        Assert.Equal(JsonValueKind.Null, list[0].GetProperty("models").ValueKind);
        Assert.Equal("openai", list[1].GetProperty("provider").GetString());
        Assert.Equal("50 USD per month", list[1].GetProperty("limits")[0].GetProperty("description").GetString());
        Assert.Equal(["description", "file", "limits", "models", "provider", "slug"],
            list[1].EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Reload_runs_every_registered_action_in_order_and_names_one_that_fails()
    {
        var ran = new List<string>();
        ReloadAction[] actions =
        [
            new("virtual_keys", _ =>
            {
                ran.Add("virtual_keys");
                return new ReloadReport(7, "degraded", [new ConfigLoadProblem("vk.yaml", "$.keys[0]", "bad slug", true)], ["a warning"]);
            }),
            new("limits", _ =>
            {
                ran.Add("limits");
                throw new InvalidOperationException("secret detail");
            }),
        ];
        var services = new ServiceCollection().BuildServiceProvider();
        var endpoint = new AdminReloadEndpoint(actions, services, NullLogger<AdminReloadEndpoint>.Instance);
        var (status, body) = await RunAsync(endpoint.ReloadAsync);
        Assert.Equal(["virtual_keys", "limits"], ran);
        Assert.Equal(500, status);
        var reloaded = body.GetProperty("reloaded");
        Assert.Equal(7, reloaded[0].GetProperty("generation").GetInt64());
        Assert.Equal("degraded", reloaded[0].GetProperty("state").GetString());
        Assert.Equal("vk.yaml", reloaded[0].GetProperty("problems")[0].GetProperty("file").GetString());
        Assert.Equal("a warning", reloaded[0].GetProperty("warnings")[0].GetString());
        Assert.Equal("failed", reloaded[1].GetProperty("state").GetString());
        Assert.DoesNotContain("secret detail", body.GetRawText(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("keys.yaml")]
    [InlineData("keys.json")]
    public void The_writer_round_trips_hand_written_entries_and_awkward_values(string name)
    {
        var dir = Directory.CreateTempSubdirectory("switchyard-writer-").FullName;
        try
        {
            var path = Path.Combine(dir, name);
            var hash = ApiKeyHash.Format("sy-existing");
            File.WriteAllText(path, name.EndsWith(".json", StringComparison.Ordinal)
                ? $$"""{"keys":[{"name":"existing","hash":"{{hash}}","scopes":["admin"],"budgets":[{"tokens":1000,"period":"total","alert_thresholds":[0.5]}]}]}"""
                : $"keys:\n  - name: existing   # hand-written\n    hash: {hash}\n    scopes: [admin]\n    budgets: [{{tokens: 1000, period: total, alert_thresholds: [0.5]}}]\n");
            var writer = new ApiKeyFileWriter(path);
            var entry = new JsonObject
            {
                ["name"] = "odd",
                ["hash"] = ApiKeyHash.Format("sy-odd"),
                ["scopes"] = new JsonArray("completions.write"),
                ["team"] = "true",
                ["metadata"] = new JsonObject { ["null"] = "123", ["x: y"] = "#hash - dash 'q' \"qq\" \\ \t emoji 😀 ünï", ["empty"] = "" },
                ["rate_limits"] = new JsonArray(new JsonObject { ["tokens"] = 2000, ["per"] = "hour" }),
                ["budgets"] = new JsonArray(new JsonObject { ["cost"] = 0.75, ["period"] = "week" }),
            };
            Assert.True(writer.Add(entry).Succeeded);
            var errors = new List<(string, string)>();
            var keys = ApiKeyFile.Parse(File.ReadAllText(path), name, errors, [])!;
            Assert.Empty(errors);
            Assert.Equal(["existing", "odd"], keys.Select(k => k.Name));
            var odd = keys[1];
            Assert.Equal("true", odd.Team);
            Assert.Equal("123", odd.Metadata!["null"]!.GetValue<string>());
            Assert.Equal("#hash - dash 'q' \"qq\" \\ \t emoji 😀 ünï", odd.Metadata!["x: y"]!.GetValue<string>());
            Assert.Equal("", odd.Metadata!["empty"]!.GetValue<string>());
            Assert.Equal(["2000 tokens per hour", "0.75 USD per week"], odd.Limits.Select(l => l.Describe()));
            Assert.Equal("1000 tokens in total", Assert.Single(keys[0].Limits).Describe());
            Assert.Equal(["existing", "odd"], writer.Names());

            Assert.Equal(KeyFileChangeError.NameTaken, writer.Add(entry).Error);
            Assert.Equal(KeyFileChangeError.NotFound, writer.Remove("ghost").Error);
            Assert.True(writer.Remove("existing").Succeeded);
            Assert.Equal(["odd"], ApiKeyFile.Parse(File.ReadAllText(path), name, errors, [])!.Select(k => k.Name));
            Assert.Equal([name], Directory.GetFiles(dir).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void The_writer_refuses_an_invalid_entry_and_keeps_the_file_mode()
    {
        var dir = Directory.CreateTempSubdirectory("switchyard-writer-").FullName;
        try
        {
            var path = Path.Combine(dir, "keys.yaml");
            var writer = new ApiKeyFileWriter(path);
            var change = writer.Add(new JsonObject { ["name"] = "bad", ["hash"] = "sha256:00", ["scopes"] = new JsonArray("admin") });
            Assert.Equal(KeyFileChangeError.EntryInvalid, change.Error);
            Assert.Contains(change.Problems, p => p.Path.EndsWith(".hash", StringComparison.Ordinal));
            Assert.False(File.Exists(path));

            Assert.True(writer.Add(new JsonObject { ["name"] = "good", ["hash"] = ApiKeyHash.Format("k"), ["scopes"] = new JsonArray("admin") }).Succeeded);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                Assert.True(writer.Add(new JsonObject { ["name"] = "more", ["hash"] = ApiKeyHash.Format("k2"), ["scopes"] = new JsonArray("admin") }).Succeeded);
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            }
            Assert.StartsWith("# Managed by the Switchyard admin API", File.ReadAllText(path), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Yaml_text_reads_back_to_the_same_tree()
    {
        var tree = JsonNode.Parse("""
            {"a":[1,2.5,-3,true,false,null,"x"],"b":{"c":{"d":[]},"e":{}},"list":[{"k":"v","n":[{"deep":["1"]}]},[1,[2]],"s"],"yes":"yes","~":"~","":"empty key"}
            """)!;
        var text = YamlText.Write(tree);
        var back = ConfigText.ParseYaml(text, out var error);
        Assert.Null(error);
        Assert.True(JsonNode.DeepEquals(tree, back), text);
    }

    [Fact]
    public void Settings_are_checked_at_start_up()
    {
        var dir = Directory.CreateTempSubdirectory("switchyard-admin-opts-").FullName;
        try
        {
            ServerOptions Parse(params (string Name, string Value)[] vars)
            {
                var map = new Dictionary<string, string> { ["AUTH_MODE"] = "keys", ["API_KEYS_PATH"] = dir };
                foreach (var (n, v) in vars)
                {
                    map[n] = v;
                }
                return ServerOptions.FromEnvironment(n => map.TryGetValue(n, out var v) ? v : null);
            }
            string Refused(params (string, string)[] vars) => Assert.Throws<FormatException>(() => Parse(vars)).Message;

            Assert.Null(Parse().Admin.Port);
            Assert.Null(Parse().Admin.WritableKeyFile);
            Assert.Equal(9000, Parse(("ADMIN_PORT", "9000")).Admin.Port);
            Assert.Equal("127.0.0.1", Parse(("ADMIN_PORT", "9000"), ("ADMIN_BIND_ADDRESS", "127.0.0.1")).Admin.BindAddress);
            Assert.Equal(Path.Combine(dir, "admin.yaml"), Parse(("API_KEYS_WRITABLE_FILE", Path.Combine(dir, "admin.yaml"))).Admin.WritableKeyFile);

            Assert.Contains("ADMIN_PORT", Refused(("ADMIN_PORT", "8787")), StringComparison.Ordinal);
            Assert.Contains("ADMIN_PORT", Refused(("ADMIN_PORT", "9100"), ("METRICS_PORT", "9100")), StringComparison.Ordinal);
            Assert.Contains("ADMIN_PORT", Refused(("ADMIN_PORT", "nine")), StringComparison.Ordinal);
            Assert.Contains("ADMIN_BIND_ADDRESS", Refused(("ADMIN_BIND_ADDRESS", "127.0.0.1")), StringComparison.Ordinal);
            Assert.Contains("ADMIN_BIND_ADDRESS", Refused(("ADMIN_PORT", "9000"), ("ADMIN_BIND_ADDRESS", "example.com")), StringComparison.Ordinal);
            foreach (var outside in new[] { Path.Combine(Path.GetTempPath(), "elsewhere.yaml"), Path.Combine(dir, "sub", "admin.yaml"), Path.Combine(dir, ".hidden.yaml"), Path.Combine(dir, "admin.txt") })
            {
                Assert.Contains("API_KEYS_WRITABLE_FILE", Refused(("API_KEYS_WRITABLE_FILE", outside)), StringComparison.Ordinal);
            }
            var none = Assert.Throws<FormatException>(() => ServerOptions.FromEnvironment(n => n == "API_KEYS_WRITABLE_FILE" ? Path.Combine(dir, "a.yaml") : null));
            Assert.Contains("API_KEYS_WRITABLE_FILE", none.Message, StringComparison.Ordinal);

            // API_KEYS_PATH a single file: the writable file can only be that file.
            var single = Path.Combine(dir, "keys.yaml");
            File.WriteAllText(single, "keys: []\n");
            var map2 = new Dictionary<string, string> { ["AUTH_MODE"] = "keys", ["API_KEYS_PATH"] = single, ["API_KEYS_WRITABLE_FILE"] = single };
            Assert.Equal(single, ServerOptions.FromEnvironment(n => map2.GetValueOrDefault(n)).Admin.WritableKeyFile);
            map2["API_KEYS_WRITABLE_FILE"] = Path.Combine(dir, "other.yaml");
            Assert.Throws<FormatException>(() => ServerOptions.FromEnvironment(n => map2.GetValueOrDefault(n)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
