using Switchyard.Core.Security.ApiKeys;
using Switchyard.Gateway.Mcp;
using Xunit;
using static Switchyard.Tests.Mcp.Policy.McpPolicyTestKit;

namespace Switchyard.Tests.Mcp.Policy;

/// <summary>Per-key MCP rules: <c>mcp_servers</c> and <c>mcp_tools</c> in a key file entry, applied by McpPolicy after the server's lists.</summary>
public sealed class McpKeyRuleTests
{
    private static ApiKey Key(string extra, List<(string Path, string Message)>? errors = null)
    {
        var text = $"keys:\n  - name: agent\n    hash: {ApiKeyHash.Format("sy-agent")}\n    scopes: [mcp.invoke]\n{extra}";
        errors ??= [];
        var keys = ApiKeyFile.Parse(text, "keys.yaml", errors, []);
        Assert.True(errors.Count == 0, string.Join("; ", errors));
        return Assert.Single(keys!);
    }

    private static McpCaller With(ApiKey key) => new() { Id = "key:" + key.Name, Name = key.Name, Key = key, AuthType = "api_key" };

    [Fact]
    public async Task A_key_sees_only_its_servers_and_tools_and_the_servers_lists_still_apply()
    {
        var key = Key("    mcp_servers: [everything, acme/fs]\n    mcp_tools: [everything/echo, everything/printEnv, acme/fs/*]\n");
        var caller = With(key);
        var policy = NewPolicy();
        var everything = UpstreamServer("everything", tools: Rules(null, "printEnv"));
        var fs = UpstreamServer("acme/fs");
        var memory = UpstreamServer("memory");

        Assert.True(policy.AllowsTool(caller, everything, "echo"));
        Assert.False(policy.AllowsTool(caller, everything, "add")); // not in mcp_tools
        Assert.False(policy.AllowsTool(caller, everything, "printEnv")); // the server blocks it
        Assert.True(policy.AllowsTool(caller, fs, "read_file")); // acme/fs/*
        Assert.False(policy.AllowsTool(caller, memory, "read_graph")); // not in mcp_servers
        Assert.True(policy.AllowsTool(McpCaller.Anonymous, everything, "add")); // no key: the server's lists only

        var refused = await policy.AdmitCallAsync(caller, Route(everything), everything, "add", CancellationToken.None);
        Assert.Equal((false, -32602, "Tool 'add' is not allowed"), (refused.Allowed, refused.ErrorCode, refused.Message));
    }

    [Fact]
    public void Absent_fields_allow_everything_and_malformed_entries_refuse_the_file()
    {
        var open = Key("");
        Assert.Null(open.McpServers);
        Assert.Null(open.McpTools);
        Assert.True(open.PermitsMcpTool("anything", "any"));
        var serversOnly = Key("    mcp_servers: [memory]\n");
        Assert.True(serversOnly.PermitsMcpTool("memory", "read_graph"));
        Assert.False(serversOnly.PermitsMcpTool("everything", "echo"));

        foreach (var bad in new[] { "    mcp_tools: [echo]\n", "    mcp_tools: [everything/]\n", "    mcp_tools: [/echo]\n", "    mcp_servers: everything\n" })
        {
            var errors = new List<(string Path, string Message)>();
            var text = $"keys:\n  - name: agent\n    hash: {ApiKeyHash.Format("sy-agent")}\n{bad}";
            Assert.Null(ApiKeyFile.Parse(text, "keys.yaml", errors, []));
            Assert.Contains(errors, e => e.Path.EndsWith(".mcp_tools", StringComparison.Ordinal) || e.Path.EndsWith(".mcp_servers", StringComparison.Ordinal));
        }
    }
}
