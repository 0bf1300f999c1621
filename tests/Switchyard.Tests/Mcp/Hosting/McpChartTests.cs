using System.Text.Json.Nodes;
using Switchyard.Tests.Deploy;
using Xunit;

namespace Switchyard.Tests.Mcp.Hosting;

/// <summary>The Helm chart's MCP side: the servers ConfigMap and its mount, MCP_SERVERS_PATH, host-based routing to the mcp port.</summary>
public sealed class McpChartTests
{
    [Fact]
    public async Task Mcp_servers_become_a_configmap_mounted_as_mcp_servers_path()
    {
        var sets = new Dictionary<string, string>
        {
            ["environment.data.SERVER_MODE"] = "all",
            ["mcp.servers.servers\\.json.servers.everything.url"] = "http://everything.internal:3001/mcp",
        };
        var render = await SwitchyardChart.RenderOkAsync(null, sets);
        var gateway = SwitchyardChart.Gateway(render);
        var container = SwitchyardChart.Container(gateway);
        var configMap = render.Single("ConfigMap", "switchyard-mcp-servers");
        var file = JsonNode.Parse((string)configMap["data"]!["servers.json"]!)!;
        Assert.Equal("http://everything.internal:3001/mcp", (string?)file["servers"]!["everything"]!["url"]);
        Assert.Equal("switchyard-mcp-servers", (string?)SwitchyardChart.Volume(gateway, "mcp-servers")!["configMap"]!["name"]);
        var mount = SwitchyardChart.Mount(container, "mcp-servers")!;
        Assert.Equal("/app/mcp-servers", (string?)mount["mountPath"]);
        Assert.Null(mount["subPath"]);
        Assert.True((bool)mount["readOnly"]!);
        Assert.Equal("/app/mcp-servers", (string?)SwitchyardChart.Env(container, "MCP_SERVERS_PATH")!["value"]);
        Assert.Equal("", SwitchyardChart.PodAnnotation(gateway, "checksum/mcp-servers"));
        Assert.Empty(PodSecurity.RestrictedViolations(gateway));

        var rolled = SwitchyardChart.Gateway(await SwitchyardChart.RenderOkAsync(null, new Dictionary<string, string>(sets) { ["mcp.rollOnChange"] = "true" }));
        Assert.Matches("^[0-9a-f]{64}$", SwitchyardChart.PodAnnotation(rolled, "checksum/mcp-servers"));

        // A string is written verbatim (YAML servers files).
        var yaml = await SwitchyardChart.RenderOkAsync(null, new Dictionary<string, string>
        {
            ["environment.data.SERVER_MODE"] = "mcp",
            ["mcp.servers.servers\\.yaml"] = "servers:\n  docs:\n    url: https://docs.example.com/mcp\n",
        });
        Assert.Equal("servers:\n  docs:\n    url: https://docs.example.com/mcp", (string?)yaml.Single("ConfigMap", "switchyard-mcp-servers")["data"]!["servers.yaml"]);
    }

    [Fact]
    public async Task An_existing_configmap_or_an_own_path_is_honoured()
    {
        var existing = await SwitchyardChart.RenderOkAsync(("environment.data.SERVER_MODE", "mcp"), ("mcp.serversConfigMap", "my-mcp"), ("mcp.mountPath", "/etc/mcp"));
        var gateway = SwitchyardChart.Gateway(existing);
        Assert.Equal("my-mcp", (string?)SwitchyardChart.Volume(gateway, "mcp-servers")!["configMap"]!["name"]);
        Assert.Equal("/etc/mcp", (string?)SwitchyardChart.Env(SwitchyardChart.Container(gateway), "MCP_SERVERS_PATH")!["value"]);
        Assert.DoesNotContain(existing.OfKind("ConfigMap"), c => ((string)c["metadata"]!["name"]!).EndsWith("-mcp-servers", StringComparison.Ordinal));

        // environment.data's own MCP_SERVERS_PATH (or Portkey's SERVERS_CONFIG_PATH) wins over the derived one.
        foreach (var name in new[] { "MCP_SERVERS_PATH", "SERVERS_CONFIG_PATH" })
        {
            var own = SwitchyardChart.Container(SwitchyardChart.Gateway(await SwitchyardChart.RenderOkAsync(("environment.data.SERVER_MODE", "all"),
                ("mcp.serversConfigMap", "my-mcp"), ($"environment.data.{name}", "/data/servers.json"))));
            Assert.Single(SwitchyardChart.EnvNames(own), n => n is "MCP_SERVERS_PATH" or "SERVERS_CONFIG_PATH");
        }

        // No servers: nothing mounted, nothing derived.
        var none = SwitchyardChart.Gateway(await SwitchyardChart.RenderOkAsync(("environment.data.SERVER_MODE", "all")));
        Assert.Null(SwitchyardChart.Volume(none, "mcp-servers"));
        Assert.Null(SwitchyardChart.Env(SwitchyardChart.Container(none), "MCP_SERVERS_PATH"));
    }

    [Fact]
    public async Task Servers_without_an_mcp_mode_or_with_a_bad_file_name_fail_the_render()
    {
        var aiOnly = await SwitchyardChart.RenderAsync(sets: new Dictionary<string, string> { ["mcp.servers.servers\\.json.servers.x.url"] = "http://x/mcp" });
        Assert.NotEqual(0, aiOnly.ExitCode);
        Assert.Contains("mcp.servers / mcp.serversConfigMap are set but SERVER_MODE runs the AI gateway only", aiOnly.Stderr, StringComparison.Ordinal);
        var badName = await SwitchyardChart.RenderAsync(sets: new Dictionary<string, string> { ["environment.data.SERVER_MODE"] = "all", ["mcp.servers.notes\\.txt"] = "x" });
        Assert.NotEqual(0, badName.ExitCode);
        var onePort = await SwitchyardChart.RenderAsync(sets: new Dictionary<string, string>
        {
            ["environment.data.SERVER_MODE"] = "all", ["environment.data.PORT"] = "9000", ["environment.data.MCP_PORT"] = "9000",
        });
        Assert.NotEqual(0, onePort.ExitCode);
        Assert.Contains("SERVER_MODE=all with MCP_PORT equal to PORT (9000)", onePort.Stderr, StringComparison.Ordinal);
        var unknownKey = await SwitchyardChart.RenderAsync(sets: new Dictionary<string, string> { ["environment.data.SERVER_MODE"] = "all", ["mcp.serverFiles"] = "x" });
        Assert.NotEqual(0, unknownKey.ExitCode);
    }

    [Fact]
    public async Task Host_based_ingress_sends_the_mcp_host_to_the_mcp_port()
    {
        var render = await SwitchyardChart.RenderOkAsync(("environment.data.SERVER_MODE", "all"), ("ingress.enabled", "true"), ("ingress.hostBased", "true"),
            ("ingress.hostname", "gw.example.org"), ("ingress.mcpHostname", "tools.example.org"));
        var rules = render.Single("Ingress", "switchyard")["spec"]!["rules"]!.AsArray();
        var mcp = Assert.Single(rules, r => (string?)r!["host"] == "tools.example.org")!;
        var path = Assert.Single(mcp["http"]!["paths"]!.AsArray())!;
        Assert.Equal("/", (string?)path["path"]);
        Assert.Equal("mcp", (string?)path["backend"]!["service"]!["port"]!["name"]);
        var service = render.Single("Service", "switchyard");
        Assert.Equal(8788, SwitchyardChart.ServicePorts(service)["mcp"]);
        Assert.Equal(8788, SwitchyardChart.Ports(SwitchyardChart.Container(SwitchyardChart.Gateway(render)))["mcp"]);
    }
}
