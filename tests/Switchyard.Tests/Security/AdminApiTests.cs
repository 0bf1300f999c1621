using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Switchyard.Core.Security.ApiKeys;
using Switchyard.Gateway.Endpoints.Admin;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Security;

/// <summary>The admin API on the real gateway: who may call it, what it shows, and keys made and revoked through it.</summary>
public sealed class AdminApiTests
{
    private const string Root = "sy-admin-root-key";
    private const string Chatter = "sy-chat-only-key";
    private const string GitKey = "sy-git-managed-key";

    private static string Entry(string name, string key, string extra) => $"  - name: {name}\n    hash: {ApiKeyHash.Format(key)}\n{extra}";

    /// <summary>Git-managed keys: an admin, a chat-only key with a rate limit and a budget, and one more chat key.</summary>
    private static readonly string GitKeys = "keys:\n"
        + Entry("root", Root, "    team: platform\n    scopes: [admin]\n")
        + Entry("chatter", Chatter, "    team: payments\n    scopes: [completions.write]\n    models: [gpt-4o-mini]\n    metadata: {env: prod}\n"
                                    + "    rate_limits: [{requests: 100, per: minute}]\n    budgets: [{cost: 50, period: month, alert_thresholds: [0.8]}]\n")
        + Entry("git-key", GitKey, "    scopes: [completions.write]\n");

    private sealed record Started(TestGateway Gateway, string KeyDir, string? Writable) : IAsyncDisposable
    {
        public ApiKeyStore Store => Gateway.App.Services.GetRequiredService<ApiKeyStore>();

        public async ValueTask DisposeAsync()
        {
            await Gateway.DisposeAsync();
            Directory.Delete(KeyDir, recursive: true);
        }
    }

    private static async Task<Started> StartAsync(string? writableName = "admin.yaml", Func<ServerOptions, ServerOptions>? server = null,
        IReadOnlyDictionary<string, string>? configs = null)
    {
        var dir = Directory.CreateTempSubdirectory("switchyard-admin-keys-").FullName;
        await File.WriteAllTextAsync(Path.Combine(dir, "git.yaml"), GitKeys);
        var writable = writableName is null ? null : Path.Combine(dir, writableName);
        var gw = await TestGateway.StartAsync(configs, server: o =>
        {
            o = o with
            {
                Auth = new AuthOptions { Keys = true, ApiKeysPath = dir, ReloadDebounce = TimeSpan.FromMilliseconds(50) },
                Admin = new AdminOptions { WritableKeyFile = writable },
            };
            return server is null ? o : server(o);
        });
        return new Started(gw, dir, writable);
    }

    private static HttpRequestMessage Admin(HttpMethod method, string path, string? key = Root, string? json = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }
        if (key is not null)
        {
            request.Headers.Add("x-portkey-api-key", key);
        }
        return request;
    }

    private static async Task<(HttpStatusCode Status, string Text)> SendAsync(HttpClient client, HttpRequestMessage request)
    {
        using var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    private static void AssertStatus(HttpStatusCode expected, (HttpStatusCode Status, string Text) actual) =>
        Assert.True(expected == actual.Status, $"expected {(int)expected}, got {(int)actual.Status}: {actual.Text}");

    /// <summary>An admin error: JSON with error.code and error.message, and never a stack trace.</summary>
    private static JsonElement AssertAdminError((HttpStatusCode Status, string Text) actual, HttpStatusCode status, string code)
    {
        AssertStatus(status, actual);
        Assert.DoesNotContain("   at ", actual.Text, StringComparison.Ordinal);
        var error = Json(actual.Text).GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        return error;
    }

    private static void AssertPortkeyRefusal((HttpStatusCode Status, string Text) actual, HttpStatusCode status, string code)
    {
        AssertStatus(status, actual);
        var root = Json(actual.Text);
        Assert.Equal("failure", root.GetProperty("status").GetString());
        Assert.Equal(code, root.GetProperty("error").GetProperty("code").GetString());
    }

    private static HttpRequestMessage Chat(Uri upstream, string key) =>
        TestGateway.Post("/v1/chat/completions", Requests.Chat(), [.. Requests.HeaderMode(upstream), ("x-portkey-api-key", key)]);

    private static readonly (HttpMethod Method, string Path, string? Body)[] EveryRoute =
    [
        (HttpMethod.Get, "/v1/admin/keys", null),
        (HttpMethod.Post, "/v1/admin/keys", """{"name":"x","scopes":["admin"]}"""),
        (HttpMethod.Get, "/v1/admin/keys/root", null),
        (HttpMethod.Delete, "/v1/admin/keys/git-key", null),
        (HttpMethod.Get, "/v1/admin/virtual-keys", null),
        (HttpMethod.Get, "/v1/admin/usage", null),
        (HttpMethod.Get, "/v1/admin/usage/key/chatter", null),
        (HttpMethod.Post, "/v1/admin/reload", null),
        (HttpMethod.Get, "/v1/admin/openapi.json", null),
        (HttpMethod.Get, "/v1/admin/mcp/pins", null),
        (HttpMethod.Post, "/v1/admin/mcp/pins/everything/echo/accept", null),
        (HttpMethod.Delete, "/v1/admin/mcp/pins/everything/echo", null),
        (HttpMethod.Get, "/v1/admin/no-such-route", null),
    ];

    [Fact]
    public async Task Every_admin_route_needs_a_key_with_the_admin_scope()
    {
        await using var s = await StartAsync();
        foreach (var (method, path, body) in EveryRoute)
        {
            AssertPortkeyRefusal(await SendAsync(s.Gateway.Client, Admin(method, path, key: null, json: body)), HttpStatusCode.Unauthorized, "03");
            AssertPortkeyRefusal(await SendAsync(s.Gateway.Client, Admin(method, path, key: "sy-unknown", json: body)), HttpStatusCode.Unauthorized, "03");
            AssertPortkeyRefusal(await SendAsync(s.Gateway.Client, Admin(method, path, key: Chatter, json: body)), HttpStatusCode.Forbidden, "033");
        }
        // Nothing was changed by the refused calls.
        Assert.False(File.Exists(s.Writable));
        Assert.NotNull(s.Store.Find(GitKey));
        // The admin key works, also as a bearer token.
        var bearer = new HttpRequestMessage(HttpMethod.Get, "/v1/admin/keys");
        bearer.Headers.Add("Authorization", "Bearer " + Root);
        AssertStatus(HttpStatusCode.OK, await SendAsync(s.Gateway.Client, bearer));
    }

    [Fact]
    public async Task With_auth_mode_none_the_admin_api_is_closed_with_403_saying_it_needs_auth_mode_keys()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        foreach (var (method, path, body) in EveryRoute)
        {
            var answer = await SendAsync(gw.Client, Admin(method, path, key: null, json: body));
            AssertPortkeyRefusal(answer, HttpStatusCode.Forbidden, "033");
            Assert.Contains("AUTH_MODE=keys", Json(answer.Text).GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        }
        Assert.Empty(sim.Requests);
    }

    [Fact]
    public async Task Keys_are_listed_without_hashes_with_their_limits_described()
    {
        await using var s = await StartAsync();
        var (status, text) = await SendAsync(s.Gateway.Client, Admin(HttpMethod.Get, "/v1/admin/keys"));
        AssertStatus(HttpStatusCode.OK, (status, text));
        foreach (var secret in new[] { Root, Chatter, GitKey })
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToHexStringLower(ApiKeyHash.Compute(secret)), text, StringComparison.OrdinalIgnoreCase);
        }
        Assert.DoesNotContain("sha256", text, StringComparison.OrdinalIgnoreCase);
        var list = Json(text);
        Assert.Equal(3, list.GetProperty("count").GetInt32());
        Assert.Equal("admin.yaml", list.GetProperty("writable_file").GetString());
        Assert.Equal(["root", "chatter", "git-key"], list.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("name").GetString()!));

        var (oneStatus, oneText) = await SendAsync(s.Gateway.Client, Admin(HttpMethod.Get, "/v1/admin/keys/chatter"));
        AssertStatus(HttpStatusCode.OK, (oneStatus, oneText));
        Assert.DoesNotContain(Convert.ToHexStringLower(ApiKeyHash.Compute(Chatter)), oneText, StringComparison.OrdinalIgnoreCase);
        var key = Json(oneText);
        Assert.Equal("payments", key.GetProperty("team").GetString());
        Assert.Equal(["completions.write"], key.GetProperty("scopes").EnumerateArray().Select(e => e.GetString()!));
        Assert.Equal(["gpt-4o-mini"], key.GetProperty("models").EnumerateArray().Select(e => e.GetString()!));
        Assert.Equal(JsonValueKind.Null, key.GetProperty("configs").ValueKind);
        Assert.Equal("prod", key.GetProperty("metadata").GetProperty("env").GetString());
        Assert.Equal("git.yaml", key.GetProperty("file").GetString());
        Assert.False(key.GetProperty("writable").GetBoolean());
        Assert.False(key.GetProperty("disabled").GetBoolean());
        Assert.Equal(["100 requests per minute", "50 USD per month"],
            key.GetProperty("limits").EnumerateArray().Select(l => l.GetProperty("description").GetString()!));
        Assert.Equal("rate_limit", key.GetProperty("limits")[0].GetProperty("kind").GetString());
        Assert.Equal(0.8m, key.GetProperty("limits")[1].GetProperty("alert_thresholds")[0].GetDecimal());

        AssertAdminError(await SendAsync(s.Gateway.Client, Admin(HttpMethod.Get, "/v1/admin/keys/nobody")), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task A_created_key_is_returned_once_works_at_once_and_a_revoked_one_is_refused()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var s = await StartAsync();
        var (status, text) = await SendAsync(s.Gateway.Client, Admin(HttpMethod.Post, "/v1/admin/keys", json: """
            {"name":"svc-new","team":"search","scopes":["completions.write"],"models":["gpt-4o-mini"],
             "metadata":{"owner":"ops \"quoted\" ünïcode: # not a comment"},"expires_at":"2099-01-01T00:00:00Z",
             "rate_limits":[{"requests":10,"per":"second"}],"budgets":[{"cost":12.5,"period":"day"}]}
            """));
        AssertStatus(HttpStatusCode.Created, (status, text));
        var created = Json(text);
        var key = created.GetProperty("key").GetString()!;
        Assert.Matches("^sy-[A-Za-z0-9_-]{43}$", key);
        Assert.Equal("svc-new", created.GetProperty("api_key").GetProperty("name").GetString());
        Assert.True(created.GetProperty("api_key").GetProperty("writable").GetBoolean());
        Assert.Equal(["10 requests per second", "12.5 USD per day"],
            created.GetProperty("api_key").GetProperty("limits").EnumerateArray().Select(l => l.GetProperty("description").GetString()!));

        // Only the hash is on disk, with everything else the request gave, and no temp file is left behind.
        var file = await File.ReadAllTextAsync(s.Writable!);
        Assert.DoesNotContain(key, file, StringComparison.Ordinal);
        Assert.Contains(ApiKeyHash.Format(key), file, StringComparison.Ordinal);
        Assert.Equal(["admin.yaml", "git.yaml"], Directory.GetFiles(s.KeyDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var fromFile = Assert.Single(ApiKeyFile.Parse(file, "admin.yaml", [], [])!);
        Assert.Equal("ops \"quoted\" ünïcode: # not a comment", fromFile.Metadata!["owner"]!.GetValue<string>());
        Assert.Equal("search", fromFile.Team);

        // Works for a chat right away; and the key is never shown again.
        var chat = await s.Gateway.SendAsync(Chat(sim.BaseUrl, key));
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        Assert.Single(sim.Requests);
        var (_, listed) = await SendAsync(s.Gateway.Client, Admin(HttpMethod.Get, "/v1/admin/keys/svc-new"));
        Assert.DoesNotContain(key, listed, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexStringLower(ApiKeyHash.Compute(key)), listed, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("2099-01-01T00:00:00+00:00", Json(listed).GetProperty("expires_at").GetString());

        // A second key of the same name, in either file, is a conflict.
        AssertAdminError(await SendAsync(s.Gateway.Client, Admin(HttpMethod.Post, "/v1/admin/keys", json: """{"name":"svc-new","scopes":["admin"]}""")),
            HttpStatusCode.Conflict, "name_taken");
        var taken = AssertAdminError(await SendAsync(s.Gateway.Client, Admin(HttpMethod.Post, "/v1/admin/keys", json: """{"name":"git-key","scopes":["admin"]}""")),
            HttpStatusCode.Conflict, "name_taken");
        Assert.Contains("git.yaml", taken.GetProperty("message").GetString(), StringComparison.Ordinal);

        // Revoked: refused from then on (the store has reloaded by the time DELETE answers; the event bounds the wait anyway).
        var reloaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        s.Store.Reloaded += snapshot =>
        {
            if (!snapshot.ByFile.Values.SelectMany(k => k).Any(k => k.Name == "svc-new"))
            {
                reloaded.TrySetResult();
            }
        };
        var (revokeStatus, revokeText) = await SendAsync(s.Gateway.Client, Admin(HttpMethod.Delete, "/v1/admin/keys/svc-new"));
        AssertStatus(HttpStatusCode.OK, (revokeStatus, revokeText));
        Assert.Equal("svc-new", Json(revokeText).GetProperty("revoked").GetString());
        await reloaded.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var refused = await s.Gateway.SendAsync(Chat(sim.BaseUrl, key));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Single(sim.Requests);
        Assert.DoesNotContain(ApiKeyHash.Format(key), await File.ReadAllTextAsync(s.Writable!), StringComparison.Ordinal);
        AssertAdminError(await SendAsync(s.Gateway.Client, Admin(HttpMethod.Delete, "/v1/admin/keys/svc-new")), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Revoking_a_git_managed_key_is_a_conflict_naming_its_file_and_changes_nothing()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var s = await StartAsync();
        var before = await File.ReadAllTextAsync(Path.Combine(s.KeyDir, "git.yaml"));
        var error = AssertAdminError(await SendAsync(s.Gateway.Client, Admin(HttpMethod.Delete, "/v1/admin/keys/git-key")), HttpStatusCode.Conflict, "not_writable");
        Assert.Contains("git.yaml", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllTextAsync(Path.Combine(s.KeyDir, "git.yaml")));
        Assert.Equal(HttpStatusCode.OK, (await s.Gateway.SendAsync(Chat(sim.BaseUrl, GitKey))).StatusCode);
    }

    [Fact]
    public async Task Without_a_writable_file_create_and_revoke_answer_405_naming_the_setting()
    {
        await using var s = await StartAsync(writableName: null);
        foreach (var request in new[]
                 {
                     Admin(HttpMethod.Post, "/v1/admin/keys", json: """{"name":"x","scopes":["admin"]}"""),
                     Admin(HttpMethod.Delete, "/v1/admin/keys/git-key"),
                 })
        {
            using var response = await s.Gateway.Client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            var error = AssertAdminError((response.StatusCode, text), HttpStatusCode.MethodNotAllowed, "not_writable");
            Assert.Contains("API_KEYS_WRITABLE_FILE", error.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Equal("GET", string.Join(",", response.Content.Headers.Allow));
        }
        Assert.Equal(JsonValueKind.Null, Json((await SendAsync(s.Gateway.Client, Admin(HttpMethod.Get, "/v1/admin/keys"))).Text).GetProperty("writable_file").ValueKind);
        Assert.NotNull(s.Store.Find(GitKey));
    }

    [Fact]
    public async Task Bad_bodies_get_400_with_json_paths_and_never_a_stack_trace_or_a_write()
    {
        await using var s = await StartAsync();
        async Task<JsonElement> BadAsync(string body, string code = "invalid_body") =>
            AssertAdminError(await SendAsync(s.Gateway.Client, Admin(HttpMethod.Post, "/v1/admin/keys", json: body)), HttpStatusCode.BadRequest, code);
        static IEnumerable<string> Paths(JsonElement error) => error.GetProperty("details").EnumerateArray().Select(d => d.GetProperty("path").GetString()!);

        await BadAsync("{not json", "invalid_json");
        await BadAsync("", "invalid_json");
        await BadAsync("""{"name":"a","name":"b","scopes":["admin"]}""", "invalid_json");
        await BadAsync("""["name"]""");
        await BadAsync("null");
        Assert.Contains("$.name", Paths(await BadAsync("""{"scopes":["admin"]}""")));
        Assert.Contains("$.name", Paths(await BadAsync("""{"name":"has space","scopes":["admin"]}""")));
        Assert.Contains("$.name", Paths(await BadAsync("""{"name":7,"scopes":["admin"]}""")));
        Assert.Contains("$.scopes", Paths(await BadAsync("""{"name":"a"}""")));
        Assert.Contains("$.scopes", Paths(await BadAsync("""{"name":"a","scopes":["root"]}""")));
        Assert.Contains("$.hash", Paths(await BadAsync($$"""{"name":"a","scopes":["admin"],"hash":"{{ApiKeyHash.Format("x")}}"}""")));
        Assert.Contains("$.key", Paths(await BadAsync("""{"name":"a","scopes":["admin"],"key":"sy-mine"}""")));
        Assert.Contains("$.colour", Paths(await BadAsync("""{"name":"a","scopes":["admin"],"colour":"red"}""")));
        Assert.Contains("$.expires_at", Paths(await BadAsync("""{"name":"a","scopes":["admin"],"expires_at":"2030-01-01T00:00:00"}""")));
        Assert.Contains("$.metadata", Paths(await BadAsync("""{"name":"a","scopes":["admin"],"metadata":{"n":1}}""")));
        Assert.Contains("$.disabled", Paths(await BadAsync("""{"name":"a","scopes":["admin"],"disabled":"no"}""")));
        Assert.Contains("$.rate_limits[0].per", Paths(await BadAsync("""{"name":"a","scopes":["admin"],"rate_limits":[{"requests":5,"per":"fortnight"}]}""")));

        var wrongType = new HttpRequestMessage(HttpMethod.Post, "/v1/admin/keys") { Content = new StringContent("name=a", System.Text.Encoding.UTF8, "text/plain") };
        wrongType.Headers.Add("x-portkey-api-key", Root);
        AssertAdminError(await SendAsync(s.Gateway.Client, wrongType), HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
        AssertAdminError(await SendAsync(s.Gateway.Client, Admin(HttpMethod.Post, "/v1/admin/keys", json: new string(' ', 70_000) + "{}")),
            HttpStatusCode.RequestEntityTooLarge, "body_too_large");
        Assert.False(File.Exists(s.Writable));

        // Unknown admin paths and methods: JSON 404 and 405, never proxied.
        AssertAdminError(await SendAsync(s.Gateway.Client, Admin(HttpMethod.Get, "/v1/admin/nothing/here")), HttpStatusCode.NotFound, "not_found");
        using var put = await s.Gateway.Client.SendAsync(Admin(HttpMethod.Put, "/v1/admin/keys", json: "{}"));
        AssertAdminError((put.StatusCode, await put.Content.ReadAsStringAsync()), HttpStatusCode.MethodNotAllowed, "method_not_allowed");
        Assert.Equal(["GET", "POST"], put.Content.Headers.Allow.Order(StringComparer.Ordinal));
        AssertAdminError(await SendAsync(s.Gateway.Client, Admin(HttpMethod.Get, "/v1/admin/usage/galaxy/x")), HttpStatusCode.BadRequest, "invalid_kind");
    }

    [Fact]
    public async Task A_hand_broken_writable_file_is_not_overwritten()
    {
        await using var s = await StartAsync();
        await File.WriteAllTextAsync(s.Writable!, "keys:\n  - name: typo\n    hash: sha256:nothex\n");
        var error = AssertAdminError(await SendAsync(s.Gateway.Client, Admin(HttpMethod.Post, "/v1/admin/keys", json: """{"name":"a","scopes":["admin"]}""")),
            HttpStatusCode.Conflict, "file_invalid");
        Assert.Contains("$.keys[0].hash", error.GetProperty("details").EnumerateArray().Select(d => d.GetProperty("path").GetString()));
        Assert.Equal("keys:\n  - name: typo\n    hash: sha256:nothex\n", await File.ReadAllTextAsync(s.Writable!));
    }

    [Fact]
    public async Task Concurrent_creates_are_serialized_and_every_key_works()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var s = await StartAsync(writableName: "admin.json");
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            SendAsync(s.Gateway.Client, Admin(HttpMethod.Post, "/v1/admin/keys", json: $$"""{"name":"svc-{{i}}","scopes":["completions.write"]}"""))));
        foreach (var answer in answers)
        {
            AssertStatus(HttpStatusCode.Created, answer);
        }
        var keys = ApiKeyFile.Parse(await File.ReadAllTextAsync(s.Writable!), "admin.json", [], [])!;
        Assert.Equal(8, keys.Count);
        foreach (var answer in answers)
        {
            Assert.Equal(HttpStatusCode.OK, (await s.Gateway.SendAsync(Chat(sim.BaseUrl, Json(answer.Text).GetProperty("key").GetString()!))).StatusCode);
        }
        var revokes = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => SendAsync(s.Gateway.Client, Admin(HttpMethod.Delete, $"/v1/admin/keys/svc-{i}"))));
        Assert.All(revokes, r => AssertStatus(HttpStatusCode.OK, r));
        Assert.Empty(ApiKeyFile.Parse(await File.ReadAllTextAsync(s.Writable!), "admin.json", [], [])!);
    }

    [Fact]
    public async Task With_admin_port_the_admin_api_is_served_there_only()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var s = await StartAsync(server: o => o with { Admin = o.Admin with { Port = 0 } });
        var adminPort = GatewayApp.BoundAdminPort(s.Gateway.App);
        Assert.True(adminPort > 0 && adminPort != s.Gateway.BaseUrl.Port);
        using var admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{adminPort}") };

        // Main port: 404 for the admin API, even with an admin key (and not proxied upstream); the rest works.
        foreach (var (method, path, body) in EveryRoute)
        {
            var answer = await SendAsync(s.Gateway.Client, Admin(method, path, json: body));
            AssertStatus(HttpStatusCode.NotFound, answer);
        }
        Assert.Equal(HttpStatusCode.OK, (await s.Gateway.SendAsync(Chat(sim.BaseUrl, Chatter))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await s.Gateway.Client.GetAsync("/v1/health")).StatusCode);

        // Admin port: the admin API, with the same key checks; nothing else.
        AssertStatus(HttpStatusCode.OK, await SendAsync(admin, Admin(HttpMethod.Get, "/v1/admin/keys")));
        AssertPortkeyRefusal(await SendAsync(admin, Admin(HttpMethod.Get, "/v1/admin/keys", key: null)), HttpStatusCode.Unauthorized, "03");
        AssertPortkeyRefusal(await SendAsync(admin, Admin(HttpMethod.Get, "/v1/admin/keys", key: Chatter)), HttpStatusCode.Forbidden, "033");
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/v1/health")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.SendAsync(Chat(sim.BaseUrl, Chatter))).StatusCode);
        Assert.Single(sim.Requests);
    }

    [Fact]
    public async Task Reload_rereads_keys_and_configs_and_reports_generations_and_problems()
    {
        await using var s = await StartAsync(configs: new Dictionary<string, string> { ["one.json"] = """{"provider":"openai","api_key":"k"}""" });
        var keysBefore = s.Store.Current.Generation;
        var configsBefore = s.Gateway.Engine.NamedConfigs.Current.Generation;
        await File.WriteAllTextAsync(Path.Combine(s.KeyDir, "broken.yaml"), "keys:\n  - name: nohash\n");
        var (status, text) = await SendAsync(s.Gateway.Client, Admin(HttpMethod.Post, "/v1/admin/reload"));
        AssertStatus(HttpStatusCode.OK, (status, text));
        var reloaded = Json(text).GetProperty("reloaded").EnumerateArray().ToDictionary(r => r.GetProperty("name").GetString()!);
        Assert.Equal(["configs", "keys"], reloaded.Keys.Order(StringComparer.Ordinal));
        Assert.True(reloaded["keys"].GetProperty("generation").GetInt64() > keysBefore);
        Assert.True(reloaded["configs"].GetProperty("generation").GetInt64() > configsBefore);
        Assert.Equal("ok", reloaded["configs"].GetProperty("state").GetString());
        Assert.Equal("degraded", reloaded["keys"].GetProperty("state").GetString());
        var problem = reloaded["keys"].GetProperty("problems")[0];
        Assert.Equal("broken.yaml", problem.GetProperty("file").GetString());
        // The watcher may reload once more on its own after the file event; the answer is never ahead of the store.
        Assert.True(s.Store.Current.Generation >= reloaded["keys"].GetProperty("generation").GetInt64());
    }

    [Fact]
    public async Task Without_virtual_keys_the_list_is_empty_and_usage_shows_the_keys_own_rules()
    {
        await using var s = await StartAsync();
        var vk = Json((await SendAsync(s.Gateway.Client, Admin(HttpMethod.Get, "/v1/admin/virtual-keys"))).Text);
        Assert.Equal(0, vk.GetProperty("count").GetInt32());
        var usage = Json((await SendAsync(s.Gateway.Client, Admin(HttpMethod.Get, "/v1/admin/usage"))).Text);
        Assert.True(usage.GetProperty("limits_configured").GetBoolean());
        var subject = Assert.Single(usage.GetProperty("subjects").EnumerateArray());
        Assert.Equal("chatter", subject.GetProperty("name").GetString());
        Assert.Equal(2, subject.GetProperty("rules").GetArrayLength());
        var one = await SendAsync(s.Gateway.Client, Admin(HttpMethod.Get, "/v1/admin/usage/team/payments"));
        Assert.Equal(HttpStatusCode.NotFound, one.Status);
    }

    [Fact]
    public async Task Admin_calls_are_counted_in_metrics()
    {
        await using var s = await StartAsync();
        await SendAsync(s.Gateway.Client, Admin(HttpMethod.Get, "/v1/admin/keys"));
        await SendAsync(s.Gateway.Client, Admin(HttpMethod.Get, "/v1/admin/keys", key: null));
        var metrics = await s.Gateway.Client.GetStringAsync("/metrics");
        var lines = metrics.Split('\n').Where(l => l.StartsWith("switchyard_admin_requests", StringComparison.Ordinal)).ToList();
        Assert.Contains(lines, l => l.Contains("route=\"/v1/admin/keys\"", StringComparison.Ordinal) && l.Contains("=\"200\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("route=\"/v1/admin/keys\"", StringComparison.Ordinal) && l.Contains("=\"401\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_writable_key_file_outside_api_keys_path_stops_start_up_with_exit_code_2_naming_it()
    {
        var dir = Directory.CreateTempSubdirectory("switchyard-admin-exit-").FullName;
        try
        {
            var start = new System.Diagnostics.ProcessStartInfo("dotnet", Path.Combine(AppContext.BaseDirectory, "Switchyard.Gateway.dll"))
            {
                WorkingDirectory = RepoPaths.Root,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            start.Environment["PORT"] = "0";
            start.Environment["BIND_ADDRESS"] = "127.0.0.1";
            start.Environment["LOG_STORE"] = "none";
            start.Environment["AUTH_MODE"] = "keys";
            start.Environment["API_KEYS_PATH"] = Path.Combine(dir, "keys");
            start.Environment["API_KEYS_WRITABLE_FILE"] = Path.Combine(dir, "elsewhere", "admin.yaml");
            using var process = System.Diagnostics.Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            try
            {
                await process.WaitForExitAsync(exit.Token);
            }
            finally
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
            Assert.Equal(2, process.ExitCode);
            Assert.Contains("API_KEYS_WRITABLE_FILE", await stderr, StringComparison.Ordinal);
            Assert.Contains("not inside API_KEYS_PATH", await stderr, StringComparison.Ordinal);
            await stdout;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task The_openapi_document_describes_every_mapped_admin_route_and_nothing_else()
    {
        await using var s = await StartAsync();
        var (status, text) = await SendAsync(s.Gateway.Client, Admin(HttpMethod.Get, "/v1/admin/openapi.json"));
        AssertStatus(HttpStatusCode.OK, (status, text));

        var read = Microsoft.OpenApi.OpenApiDocument.Parse(text, "json");
        Assert.True(read.Diagnostic is null || read.Diagnostic.Errors.Count == 0,
            "OpenAPI errors: " + string.Join("; ", read.Diagnostic?.Errors.Select(e => $"{e.Pointer}: {e.Message}") ?? []));
        var document = read.Document!;
        Assert.StartsWith("3.", Json(text).GetProperty("openapi").GetString(), StringComparison.Ordinal);
        var described = document.Paths.SelectMany(p => p.Value.Operations!.Keys.Select(m => $"{m.ToString().ToUpperInvariant()} {p.Key}"))
            .ToHashSet(StringComparer.Ordinal);

        // What routing really holds under /v1/admin (the catch-alls that answer 404/405 aside), not only the admin API's own list.
        var mapped = s.Gateway.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } raw && raw.StartsWith("/v1/admin", StringComparison.OrdinalIgnoreCase) && !raw.Contains("{**", StringComparison.Ordinal)
                        && raw != "/v1/admin")
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["ANY"]).Select(m => $"{m} {e.RoutePattern.RawText}"))
            .ToHashSet(StringComparer.Ordinal);
        var table = s.Gateway.App.Services.GetRequiredService<AdminApi>().Routes.Select(r => $"{r.Method} {r.Pattern}").ToHashSet(StringComparer.Ordinal);

        Assert.Equal(table.Order(StringComparer.Ordinal), mapped.Order(StringComparer.Ordinal));
        Assert.Empty(mapped.Except(described));
        Assert.Empty(described.Except(mapped));
        Assert.Equal(12, mapped.Count);
        // Every operation says what it answers on success.
        foreach (var (path, item) in document.Paths)
        {
            foreach (var (method, operation) in item.Operations!)
            {
                Assert.True(operation.Responses!.Keys.Any(k => k.StartsWith('2')), $"{method} {path} documents no success answer");
                Assert.Contains("401", operation.Responses!.Keys);
                Assert.Contains("403", operation.Responses!.Keys);
            }
        }
    }
}
