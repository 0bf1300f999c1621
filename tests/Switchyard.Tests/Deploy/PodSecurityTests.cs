using System.Text.Json.Nodes;
using Xunit;

namespace Switchyard.Tests.Deploy;

/// <summary>The restricted Pod Security Standard checker finds each kind of violation, on every workload kind.</summary>
public sealed class PodSecurityTests
{
    // A pod spec that meets the restricted profile.
    private const string CompliantSpec = """
        {
          "securityContext": { "runAsNonRoot": true, "runAsUser": 10001, "seccompProfile": { "type": "RuntimeDefault" } },
          "volumes": [ { "name": "tmp", "emptyDir": {} }, { "name": "config", "configMap": { "name": "c" } } ],
          "initContainers": [ { "name": "init", "image": "x", "securityContext": { "allowPrivilegeEscalation": false, "capabilities": { "drop": ["ALL"] } } } ],
          "containers": [ {
            "name": "app", "image": "x", "ports": [ { "containerPort": 8080 } ],
            "securityContext": { "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "capabilities": { "drop": ["ALL"], "add": ["NET_BIND_SERVICE"] } }
          } ]
        }
        """;

    private static JsonObject Pod(Action<JsonObject>? change = null)
    {
        var spec = JsonNode.Parse(CompliantSpec)!.AsObject();
        change?.Invoke(spec);
        return new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Pod", ["metadata"] = new JsonObject { ["name"] = "p" }, ["spec"] = spec };
    }

    private static JsonObject App(JsonObject spec) => spec["containers"]![0]!.AsObject();

    private static JsonObject AppContext(JsonObject spec) => App(spec)["securityContext"]!.AsObject();

    [Fact]
    public void A_compliant_pod_passes_in_every_workload_kind()
    {
        Assert.Empty(PodSecurity.RestrictedViolations(Pod()));
        foreach (var kind in new[] { "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job" })
        {
            var workload = new JsonObject
            {
                ["kind"] = kind, ["metadata"] = new JsonObject { ["name"] = "w" },
                ["spec"] = new JsonObject { ["template"] = new JsonObject { ["spec"] = JsonNode.Parse(CompliantSpec) } },
            };
            Assert.Empty(PodSecurity.RestrictedViolations(workload));
        }
        var cronJob = JsonNode.Parse($$"""
            { "kind": "CronJob", "metadata": { "name": "c" }, "spec": { "jobTemplate": { "spec": { "template": { "spec": {{CompliantSpec}} } } } } }
            """)!.AsObject();
        Assert.Empty(PodSecurity.RestrictedViolations(cronJob));
        Assert.Empty(PodSecurity.RestrictedViolations(new JsonObject { ["kind"] = "Service", ["metadata"] = new JsonObject { ["name"] = "s" } }));
    }

    public static TheoryData<string, string> Violations() => new()
    {
        { "runAsNonRoot missing", "Pod/p: container \"app\": runAsNonRoot must be true (in the container's or the pod's securityContext) [Running as Non-root]" },
        { "runAsNonRoot false in a container", "Pod/p: container \"app\": runAsNonRoot must be true (in the container's or the pod's securityContext) [Running as Non-root]" },
        { "privileged", "Pod/p: container \"app\": securityContext.privileged must be unset or false [Privileged Containers]" },
        { "capabilities not dropped", "Pod/p: container \"app\": securityContext.capabilities.drop must include ALL [Capabilities]" },
        { "capability added", "Pod/p: container \"app\": capabilities.add may only contain NET_BIND_SERVICE, not CHOWN [Capabilities]" },
        { "capability beyond baseline", "Pod/p: container \"app\": capability SYS_ADMIN may not be added [Capabilities]" },
        { "seccomp Unconfined", "Pod/p: spec.securityContext.seccompProfile.type must be RuntimeDefault or Localhost, not Unconfined [Seccomp]" },
        { "seccomp missing", "Pod/p: container \"app\": seccompProfile.type must be RuntimeDefault or Localhost (in the container's or the pod's securityContext) [Seccomp]" },
        { "hostPath volume", "Pod/p: volume \"host\": hostPath volumes are forbidden [HostPath Volumes]" },
        { "nfs volume", "Pod/p: volume \"share\": volume type nfs is not allowed (only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret) [Volume Types]" },
        { "allowPrivilegeEscalation true", "Pod/p: container \"app\": securityContext.allowPrivilegeEscalation must be false [Privilege Escalation]" },
        { "allowPrivilegeEscalation unset", "Pod/p: initContainer \"init\": securityContext.allowPrivilegeEscalation must be false [Privilege Escalation]" },
        { "runAsUser 0", "Pod/p: container \"app\": securityContext.runAsUser must not be 0 [Running as Non-root user]" },
        { "hostNetwork", "Pod/p: spec.hostNetwork must be unset or false [Host Namespaces]" },
        { "hostPort", "Pod/p: container \"app\": hostPort 8080 is not allowed [Host Ports]" },
        { "unsafe sysctl", "Pod/p: sysctl kernel.msgmax is not in the safe set [Sysctls]" },
        { "procMount", "Pod/p: container \"app\": securityContext.procMount must be Default, not Unmasked [/proc Mount Type]" },
        { "SELinux user", "Pod/p: seLinuxOptions.user must not be set [SELinux]" },
        { "AppArmor unconfined", "Pod/p: container \"app\": appArmorProfile.type must be RuntimeDefault or Localhost, not Unconfined [AppArmor]" },
        { "ephemeral container", "Pod/p: ephemeralContainer \"debug\": securityContext.capabilities.drop must include ALL [Capabilities]" },
    };

    [Theory]
    [MemberData(nameof(Violations))]
    public void Each_violation_is_reported(string violation, string expected)
    {
        var pod = Pod(spec =>
        {
            switch (violation)
            {
                case "runAsNonRoot missing": spec["securityContext"]!.AsObject().Remove("runAsNonRoot"); break;
                case "runAsNonRoot false in a container": AppContext(spec)["runAsNonRoot"] = false; break;
                case "privileged": AppContext(spec)["privileged"] = true; break;
                case "capabilities not dropped": AppContext(spec)["capabilities"]!.AsObject().Remove("drop"); break;
                case "capability added": AppContext(spec)["capabilities"]!["add"] = new JsonArray("NET_BIND_SERVICE", "CHOWN"); break;
                case "capability beyond baseline": AppContext(spec)["capabilities"]!["add"] = new JsonArray("SYS_ADMIN"); break;
                case "seccomp Unconfined": spec["securityContext"]!["seccompProfile"]!["type"] = "Unconfined"; break;
                case "seccomp missing": spec["securityContext"]!.AsObject().Remove("seccompProfile"); break;
                case "hostPath volume": spec["volumes"]!.AsArray().Add(JsonNode.Parse("""{ "name": "host", "hostPath": { "path": "/var" } }""")); break;
                case "nfs volume": spec["volumes"]!.AsArray().Add(JsonNode.Parse("""{ "name": "share", "nfs": { "server": "s", "path": "/" } }""")); break;
                case "allowPrivilegeEscalation true": AppContext(spec)["allowPrivilegeEscalation"] = true; break;
                case "allowPrivilegeEscalation unset": spec["initContainers"]![0]!["securityContext"]!.AsObject().Remove("allowPrivilegeEscalation"); break;
                case "runAsUser 0": AppContext(spec)["runAsUser"] = 0; break;
                case "hostNetwork": spec["hostNetwork"] = true; break;
                case "hostPort": App(spec)["ports"]![0]!["hostPort"] = 8080; break;
                case "unsafe sysctl": spec["securityContext"]!["sysctls"] = JsonNode.Parse("""[{ "name": "kernel.msgmax", "value": "65536" }]"""); break;
                case "procMount": AppContext(spec)["procMount"] = "Unmasked"; break;
                case "SELinux user": spec["securityContext"]!["seLinuxOptions"] = JsonNode.Parse("""{ "user": "system_u" }"""); break;
                case "AppArmor unconfined": AppContext(spec)["appArmorProfile"] = JsonNode.Parse("""{ "type": "Unconfined" }"""); break;
                case "ephemeral container":
                    spec["ephemeralContainers"] = JsonNode.Parse("""[{ "name": "debug", "image": "busybox", "securityContext": { "allowPrivilegeEscalation": false } }]""");
                    break;
                default: throw new ArgumentException(violation);
            }
        });

        var violations = PodSecurity.RestrictedViolations(pod);

        Assert.Contains(expected, violations);
    }

    [Fact]
    public void Violations_in_a_cron_job_name_the_object_and_container()
    {
        var cronJob = JsonNode.Parse($$"""
            { "kind": "CronJob", "metadata": { "name": "nightly" }, "spec": { "jobTemplate": { "spec": { "template": { "spec": {{CompliantSpec}} } } } } }
            """)!.AsObject();
        cronJob["spec"]!["jobTemplate"]!["spec"]!["template"]!["spec"]!["containers"]![0]!["securityContext"]!["privileged"] = true;

        Assert.Equal(["CronJob/nightly: container \"app\": securityContext.privileged must be unset or false [Privileged Containers]"],
            PodSecurity.RestrictedViolations(cronJob));
    }

    [Fact]
    public void A_bare_default_pod_breaks_every_restricted_rule_it_can()
    {
        var pod = JsonNode.Parse("""{ "kind": "Pod", "metadata": { "name": "bare" }, "spec": { "containers": [{ "name": "c", "image": "x" }] } }""")!.AsObject();

        var violations = PodSecurity.RestrictedViolations(pod);

        Assert.Equal(4, violations.Count);
        Assert.All(violations, v => Assert.StartsWith("Pod/bare: container \"c\": ", v, StringComparison.Ordinal));
        Assert.Contains(violations, v => v.EndsWith("[Running as Non-root]", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.EndsWith("[Privilege Escalation]", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.EndsWith("[Seccomp]", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.EndsWith("[Capabilities]", StringComparison.Ordinal));
    }
}
