using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Switchyard.Core.Security.ApiKeys;
using Xunit;

namespace Switchyard.Tests.Security;

/// <summary>Gateway API keys without a server: the hash command, key files, the watched store, settings and expiry.</summary>
public sealed class ApiKeyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("switchyard-keys-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (List<ApiKey>? Keys, List<(string Path, string Message)> Errors, List<string> Warnings) Parse(string text, string file = "keys.yaml")
    {
        var errors = new List<(string, string)>();
        var warnings = new List<string>();
        var keys = ApiKeyFile.Parse(text, file, errors, warnings);
        return (keys, errors, warnings);
    }

    [Fact]
    public void Hash_key_prints_the_sha256_of_a_given_key_and_makes_a_fresh_random_key_without_one()
    {
        var output = new StringWriter();
        Assert.Equal(0, HashKeyCommand.Run(["hash-key", "abc"], output, TextWriter.Null));
        // SHA-256("abc"), the FIPS 180-2 test vector.
        Assert.Equal("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", output.ToString().Trim());

        var first = new StringWriter();
        var second = new StringWriter();
        Assert.Equal(0, HashKeyCommand.Run(["hash-key"], first, TextWriter.Null));
        Assert.Equal(0, HashKeyCommand.Run(["hash-key"], second, TextWriter.Null));
        string Line(StringWriter w, string label) => w.ToString().Split('\n').Single(l => l.StartsWith(label, StringComparison.Ordinal))[label.Length..].Trim();
        var key = Line(first, "key:");
        Assert.StartsWith("sy-", key, StringComparison.Ordinal);
        Assert.Equal(32, Convert.FromBase64String(key[3..].Replace('-', '+').Replace('_', '/') + "=").Length);
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))), Line(first, "hash:"));
        Assert.NotEqual(key, Line(second, "key:"));

        Assert.Equal(2, HashKeyCommand.Run(["hash-key", "a", "b"], TextWriter.Null, TextWriter.Null));
    }

    [Fact]
    public void A_key_file_is_read_from_yaml_or_json_with_every_field()
    {
        var hash = ApiKeyHash.Format("sy-alice");
        var (keys, errors, warnings) = Parse($$"""
            keys:
              - name: alice
                team: platform
                hash: {{hash}}
                scopes: [completions.write, logs.read]
                configs: [prod]
                providers: [openai]
                models: [gpt-4o-mini]
                metadata: {env: prod}
                expires_at: "2030-01-01T00:00:00Z"
                disabled: false
            """);
        Assert.Empty(errors);
        Assert.Empty(warnings);
        var alice = Assert.Single(keys!);
        Assert.Equal("alice", alice.Name);
        Assert.Equal("platform", alice.Team);
        Assert.Equal(ApiKeyHash.Compute("sy-alice"), alice.Hash);
        Assert.True(alice.Scopes.SetEquals(["completions.write", "logs.read"]));
        Assert.Contains("prod", (IReadOnlySet<string>)alice.Configs!);
        Assert.Contains("OpenAI", (IReadOnlySet<string>)alice.Providers!);
        Assert.Contains("gpt-4o-mini", (IReadOnlySet<string>)alice.Models!);
        Assert.Equal("prod", alice.Metadata!["env"]!.GetValue<string>());
        Assert.Equal(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero), alice.ExpiresAt);

        var (json, jsonErrors, _) = Parse($$"""[{"id":"bob","hash":"{{ApiKeyHash.Format("sy-bob")}}","scopes":["admin"],"disabled":true}]""", "keys.json");
        Assert.Empty(jsonErrors);
        Assert.True(Assert.Single(json!).Disabled);
        Assert.Null(json![0].Configs); // absent: any config
    }

    [Theory]
    [InlineData("keys:\n  - name: a\n    key: sy-plaintext-secret\n", "hash-key")]
    [InlineData("keys:\n  - name: a\n    hash: md5:abc\n", "sha256:<64 hex digits>")]
    [InlineData("keys:\n  - name: a\n    hash: HASH\n    scopes: [completions.write, everything]\n", "unknown scope 'everything'")]
    [InlineData("keys:\n  - name: a\n    hash: HASH\n    expires_at: next tuesday\n", "RFC 3339")]
    [InlineData("keys:\n  - name: a\n    hash: HASH\n    expires_at: \"2030-01-01T00:00:00\"\n", "RFC 3339")]
    [InlineData("keys:\n  - team: t\n    hash: HASH\n", "'name'")]
    [InlineData("keys:\n  - name: a\n    hash: HASH\n    metadata: [x]\n", "'metadata'")]
    [InlineData("keys: {name: a}\n", "'keys' list")]
    [InlineData("keys:\n  - name: a\n   hash: [\n", "line")]
    public void A_bad_key_file_is_refused_with_a_problem_that_never_repeats_a_plaintext_key(string text, string expected)
    {
        var (keys, errors, _) = Parse(text.Replace("HASH", ApiKeyHash.Format("sy-x"), StringComparison.Ordinal));
        Assert.Null(keys);
        Assert.Contains(errors, e => e.Message.Contains(expected, StringComparison.Ordinal));
        Assert.DoesNotContain(errors, e => e.Message.Contains("sy-plaintext-secret", StringComparison.Ordinal));
    }

    [Fact]
    public void Rate_limits_and_budgets_are_enforced_without_a_warning_while_virtual_keys_still_warn_not_enforced_yet()
    {
        var (keys, errors, warnings) = Parse($$"""
            keys:
              - name: a
                hash: {{ApiKeyHash.Format("sy-a")}}
                rate_limits: [{requests: 10, per: minute}]
                budgets: [{cost: 5, period: month}]
                virtual_keys: [openai-prod]
                scopse: [admin]
            """);
        Assert.Empty(errors);
        Assert.Single(keys!);
        foreach (var field in new[] { "rate_limits", "budgets" })
        {
            Assert.DoesNotContain(warnings, w => w.Contains($"'{field}'", StringComparison.Ordinal));
        }
        Assert.Contains(warnings, w => w.Contains("'virtual_keys'", StringComparison.Ordinal) && w.Contains("not enforced yet", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("unknown field 'scopse'", StringComparison.Ordinal));
        Assert.Equal(["10 requests per minute", "5 USD per month"], keys![0].Limits.Select(r => r.Describe()));
        Assert.Equal(["openai-prod"], keys[0].VirtualKeys!);
    }

    [Fact]
    public void A_limit_written_wrongly_is_an_error_with_its_path()
    {
        var (keys, errors, _) = Parse($$"""
            keys:
              - name: a
                hash: {{ApiKeyHash.Format("sy-a")}}
                rate_limits: [{requests: 10, per: fortnight}, {requests: 5, tokens: 5, per: minute}]
                budgets: {usd_per_month: 5}
            """);
        Assert.Null(keys);
        Assert.Contains(errors, e => e.Path == "$.keys[0].rate_limits[0].per");
        Assert.Contains(errors, e => e.Path == "$.keys[0].rate_limits[1]" && e.Message.Contains("exactly one of requests or tokens", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path == "$.keys[0].budgets" && e.Message.Contains("must be a list", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_broken_file_keeps_its_last_good_keys_and_a_fixed_or_changed_file_applies_on_reload_without_restart()
    {
        var file = Path.Combine(_dir, "team-a.yaml");
        await File.WriteAllTextAsync(file, $"keys:\n  - name: a\n    hash: {ApiKeyHash.Format("sy-a")}\n    scopes: [completions.write]\n");
        await File.WriteAllTextAsync(Path.Combine(_dir, "team-b.json"), $$"""{"keys":[{"name":"b","hash":"{{ApiKeyHash.Format("sy-b")}}"}]}""");
        using var store = new ApiKeyStore(_dir, NullLogger.Instance, TimeProvider.System, TimeSpan.FromMilliseconds(50));
        store.Start();
        Assert.Equal("ok", store.Current.State);
        Assert.Equal("a", store.Find("sy-a")?.Name);
        Assert.Equal("b", store.Find("sy-b")?.Name);
        Assert.Null(store.Find("sy-c"));

        async Task<ApiKeySnapshot> ChangeAsync(Func<Task> change, Func<ApiKeySnapshot, bool> until)
        {
            var seen = new TaskCompletionSource<ApiKeySnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
            void OnReload(ApiKeySnapshot s)
            {
                if (until(s))
                {
                    seen.TrySetResult(s);
                }
            }
            store.Reloaded += OnReload;
            try
            {
                await change();
                // Generous: the watcher answers in ~50 ms and the poll within 2 s; a loaded machine gets room.
                return await seen.Task.WaitAsync(TimeSpan.FromSeconds(15));
            }
            finally
            {
                store.Reloaded -= OnReload;
            }
        }

        // Broken: 'a' keeps serving from the last good version; health says why.
        var broken = await ChangeAsync(() => File.WriteAllTextAsync(file, "keys:\n  - name: a\n    key: sy-a\n"), s => s.Problems.Count > 0);
        Assert.Equal("degraded", broken.State);
        Assert.All(broken.Problems, p => Assert.True(p.File == "team-a.yaml" && p.KeptPreviousVersion, p.ToString()));
        Assert.Contains(broken.Problems, p => p.Message.Contains("hash-key", StringComparison.Ordinal));
        Assert.Equal("a", store.Find("sy-a")?.Name);

        // Fixed and changed: a new key appears, the old one is revoked.
        var fixedUp = await ChangeAsync(() => File.WriteAllTextAsync(file, $"keys:\n  - name: a2\n    hash: {ApiKeyHash.Format("sy-a2")}\n"),
            s => s.Problems.Count == 0);
        Assert.Equal("ok", fixedUp.State);
        Assert.Null(store.Find("sy-a"));
        Assert.Equal("a2", store.Find("sy-a2")?.Name);

        // A file removed takes its keys with it.
        await ChangeAsync(() => { File.Delete(Path.Combine(_dir, "team-b.json")); return Task.CompletedTask; }, s => s.ByHash.Count == 1);
        Assert.Null(store.Find("sy-b"));
    }

    [Fact]
    public void Auth_mode_settings_default_to_none_and_refuse_jwt_unknown_modes_and_keys_without_a_path()
    {
        Func<string, string?> Env(params (string Name, string Value)[] values) => n => values.FirstOrDefault(v => v.Name == n).Value;
        Assert.False(ServerOptions.FromEnvironment(Env()).Auth.Keys);
        Assert.False(ServerOptions.FromEnvironment(Env(("AUTH_MODE", "none"))).Auth.Keys);
        var keys = ServerOptions.FromEnvironment(Env(("AUTH_MODE", " Keys "), ("API_KEYS_PATH", "/etc/switchyard/keys"))).Auth;
        Assert.True(keys.Keys);
        Assert.Equal("/etc/switchyard/keys", keys.ApiKeysPath);

        Assert.Contains("API_KEYS_PATH", Assert.Throws<FormatException>(() => ServerOptions.FromEnvironment(Env(("AUTH_MODE", "keys")))).Message, StringComparison.Ordinal);
        Assert.Contains("not built yet", Assert.Throws<FormatException>(() => ServerOptions.FromEnvironment(Env(("AUTH_MODE", "keys,jwt"), ("API_KEYS_PATH", "/k")))).Message, StringComparison.Ordinal);
        Assert.StartsWith("AUTH_MODE=bogus", Assert.Throws<FormatException>(() => ServerOptions.FromEnvironment(Env(("AUTH_MODE", "bogus")))).Message, StringComparison.Ordinal);
        Assert.Contains("none cannot be combined", Assert.Throws<FormatException>(() => ServerOptions.FromEnvironment(Env(("AUTH_MODE", "none,keys"), ("API_KEYS_PATH", "/k")))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_is_accepted_until_its_expiry_on_the_injected_clock_and_then_refused_with_code_01()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero));
        await File.WriteAllTextAsync(Path.Combine(_dir, "k.yaml"),
            $"keys:\n  - name: temp\n    hash: {ApiKeyHash.Format("sy-temp")}\n    scopes: [completions.write]\n    expires_at: \"2026-06-01T13:00:00+00:00\"\n");
        using var store = new ApiKeyStore(_dir, NullLogger.Instance, clock);
        store.Start();
        var gate = new ApiKeyGate(store, clock);
        AuthRefusal? Check()
        {
            var http = new DefaultHttpContext();
            http.Request.Headers["x-portkey-api-key"] = "sy-temp";
            gate.Authenticate(http.Request, out var refusal);
            return refusal;
        }
        Assert.Null(Check());
        clock.Advance(TimeSpan.FromMinutes(59));
        Assert.Null(Check());
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(new AuthRefusal(401, "01", "API key has expired"), Check());
    }
}
