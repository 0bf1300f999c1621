using System.Text.Json;
using System.Text.Json.Nodes;

namespace Switchyard.Tests.Deploy;

/// <summary>
/// The Kubernetes Pod Security Standards, "restricted" profile (which contains "baseline"), policy version "latest",
/// checked on a manifest's pod spec: a Pod, or the pod template of a Deployment, StatefulSet, DaemonSet, ReplicaSet,
/// ReplicationController, Job or CronJob. Containers, initContainers and ephemeralContainers are all checked.
/// </summary>
public static class PodSecurity
{
    // Baseline: capabilities a container may add (the container runtime's default set).
    private static readonly HashSet<string> BaselineCapabilities =
    [
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP",
        "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
    ];

    // Baseline: the sysctls known to be namespaced and safe.
    private static readonly HashSet<string> SafeSysctls =
    [
        "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem",
    ];

    // Baseline: the SELinux types a pod or container may ask for.
    private static readonly HashSet<string> SelinuxTypes = ["container_t", "container_init_t", "container_kvm_t", "container_engine_t"];

    // Restricted: the only volume sources allowed (everything else is a node- or network-storage volume).
    private static readonly HashSet<string> RestrictedVolumeSources =
        ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];

    private static readonly string[] ContainerLists = ["initContainers", "containers", "ephemeralContainers"];

    /// <summary>
    /// The violations of the restricted profile, each naming the object, the container where it applies, and the
    /// control ("Kind/name: container \"app\": allowPrivilegeEscalation must be false [Privilege Escalation]").
    /// Empty when compliant, and for kinds that carry no pod spec (Service, ConfigMap, ...).
    /// </summary>
    public static IReadOnlyList<string> RestrictedViolations(JsonObject document)
    {
        var kind = Str(document["kind"]) ?? "";
        var name = Str(document["metadata"]?["name"]) ?? "";
        var template = kind switch
        {
            "Pod" => document,
            "Deployment" or "StatefulSet" or "DaemonSet" or "ReplicaSet" or "ReplicationController" or "Job" => document["spec"]?["template"],
            "CronJob" => document["spec"]?["jobTemplate"]?["spec"]?["template"],
            _ => null,
        };
        var violations = new List<string>();
        if (template is null)
        {
            if (kind is "Deployment" or "StatefulSet" or "DaemonSet" or "ReplicaSet" or "ReplicationController" or "Job" or "CronJob")
            {
                violations.Add($"{kind}/{name}: has no pod template");
            }
            return violations;
        }
        var pod = template["spec"] as JsonObject;
        if (pod is null)
        {
            violations.Add($"{kind}/{name}: has no pod spec");
            return violations;
        }
        var annotations = template["metadata"]?["annotations"] as JsonObject;
        var check = new Checker($"{kind}/{name}", violations);
        check.Pod(pod, annotations);
        return violations;
    }

    private sealed class Checker(string subject, List<string> violations)
    {
        private void Add(string where, string rule, string control) =>
            violations.Add($"{subject}: {(where.Length == 0 ? "" : where + ": ")}{rule} [{control}]");

        public void Pod(JsonObject pod, JsonObject? annotations)
        {
            var podContext = pod["securityContext"] as JsonObject;
            var windows = Str(pod["os"]?["name"]) == "windows";
            var containers = ContainerLists
                .SelectMany(list => (pod[list] as JsonArray ?? new JsonArray()).OfType<JsonObject>().Select(c => (List: list, Container: c)))
                .ToList();

            // ---- Baseline ----
            // HostProcess.
            if (IsTrue(podContext?["windowsOptions"]?["hostProcess"]))
            {
                Add("", "spec.securityContext.windowsOptions.hostProcess must be unset or false", "HostProcess");
            }
            // Host namespaces.
            foreach (var field in new[] { "hostNetwork", "hostPID", "hostIPC" })
            {
                if (IsTrue(pod[field]))
                {
                    Add("", $"spec.{field} must be unset or false", "Host Namespaces");
                }
            }
            // HostPath volumes (baseline) and the restricted volume types.
            foreach (var volume in (pod["volumes"] as JsonArray ?? new JsonArray()).OfType<JsonObject>())
            {
                var volumeName = Str(volume["name"]) ?? "?";
                foreach (var (source, value) in volume)
                {
                    if (source == "name" || value is null)
                    {
                        continue;
                    }
                    if (source == "hostPath")
                    {
                        Add($"volume \"{volumeName}\"", "hostPath volumes are forbidden", "HostPath Volumes");
                    }
                    else if (!RestrictedVolumeSources.Contains(source))
                    {
                        Add($"volume \"{volumeName}\"", $"volume type {source} is not allowed (only {string.Join(", ", RestrictedVolumeSources)})", "Volume Types");
                    }
                }
            }
            // AppArmor (pod level and the legacy annotations).
            CheckAppArmor("", podContext?["appArmorProfile"]);
            foreach (var (key, value) in annotations ?? new JsonObject())
            {
                const string prefix = "container.apparmor.security.beta.kubernetes.io/";
                if (key.StartsWith(prefix, StringComparison.Ordinal))
                {
                    var profile = Str(value);
                    if (profile is not null && profile != "runtime/default" && !profile.StartsWith("localhost/", StringComparison.Ordinal))
                    {
                        Add($"container \"{key[prefix.Length..]}\"", $"AppArmor annotation must be runtime/default or localhost/*, not {profile}", "AppArmor");
                    }
                }
            }
            // SELinux (pod level).
            CheckSelinux("", podContext?["seLinuxOptions"]);
            // Seccomp (pod level): baseline forbids Unconfined.
            var podSeccomp = Str(podContext?["seccompProfile"]?["type"]);
            if (podSeccomp is not null && podSeccomp != "RuntimeDefault" && podSeccomp != "Localhost")
            {
                Add("", $"spec.securityContext.seccompProfile.type must be RuntimeDefault or Localhost, not {podSeccomp}", "Seccomp");
            }
            // Sysctls.
            foreach (var sysctl in (podContext?["sysctls"] as JsonArray ?? new JsonArray()).OfType<JsonObject>())
            {
                var sysctlName = Str(sysctl["name"]) ?? "";
                if (!SafeSysctls.Contains(sysctlName))
                {
                    Add("", $"sysctl {sysctlName} is not in the safe set", "Sysctls");
                }
            }

            // ---- Restricted (pod level) ----
            var podNonRoot = podContext?["runAsNonRoot"];
            if (podNonRoot is not null && !IsTrue(podNonRoot))
            {
                Add("", "spec.securityContext.runAsNonRoot must be true", "Running as Non-root");
            }
            if (IsZero(podContext?["runAsUser"]))
            {
                Add("", "spec.securityContext.runAsUser must not be 0", "Running as Non-root user");
            }

            foreach (var (list, container) in containers)
            {
                Container(list, container, podNonRoot, podSeccomp, windows);
            }
        }

        private void Container(string list, JsonObject container, JsonNode? podNonRoot, string? podSeccomp, bool windows)
        {
            var where = $"{list[..^1]} \"{Str(container["name"]) ?? "?"}\"";
            var context = container["securityContext"] as JsonObject;

            // ---- Baseline ----
            if (IsTrue(context?["windowsOptions"]?["hostProcess"]))
            {
                Add(where, "securityContext.windowsOptions.hostProcess must be unset or false", "HostProcess");
            }
            if (IsTrue(context?["privileged"]))
            {
                Add(where, "securityContext.privileged must be unset or false", "Privileged Containers");
            }
            var added = (context?["capabilities"]?["add"] as JsonArray ?? new JsonArray()).Select(c => Str(c) ?? "").ToList();
            foreach (var capability in added.Where(c => !BaselineCapabilities.Contains(c)))
            {
                Add(where, $"capability {capability} may not be added", "Capabilities");
            }
            foreach (var port in (container["ports"] as JsonArray ?? new JsonArray()).OfType<JsonObject>())
            {
                var hostPort = port["hostPort"];
                if (hostPort is not null && !IsZero(hostPort))
                {
                    Add(where, $"hostPort {hostPort.ToJsonString()} is not allowed", "Host Ports");
                }
            }
            CheckAppArmor(where, context?["appArmorProfile"]);
            CheckSelinux(where, context?["seLinuxOptions"]);
            var procMount = Str(context?["procMount"]);
            if (procMount is not null && procMount != "Default")
            {
                Add(where, $"securityContext.procMount must be Default, not {procMount}", "/proc Mount Type");
            }
            var seccomp = Str(context?["seccompProfile"]?["type"]);
            if (seccomp is not null && seccomp != "RuntimeDefault" && seccomp != "Localhost")
            {
                Add(where, $"securityContext.seccompProfile.type must be RuntimeDefault or Localhost, not {seccomp}", "Seccomp");
            }

            // ---- Restricted ----
            var nonRoot = context?["runAsNonRoot"];
            if (nonRoot is not null ? !IsTrue(nonRoot) : !IsTrue(podNonRoot))
            {
                Add(where, "runAsNonRoot must be true (in the container's or the pod's securityContext)", "Running as Non-root");
            }
            if (IsZero(context?["runAsUser"]))
            {
                Add(where, "securityContext.runAsUser must not be 0", "Running as Non-root user");
            }
            if (windows)
            {
                // Privilege escalation, seccomp and capabilities are Linux controls; the profile exempts Windows pods.
                return;
            }
            if (!IsFalse(context?["allowPrivilegeEscalation"]))
            {
                Add(where, "securityContext.allowPrivilegeEscalation must be false", "Privilege Escalation");
            }
            if (seccomp is null && podSeccomp is null)
            {
                Add(where, "seccompProfile.type must be RuntimeDefault or Localhost (in the container's or the pod's securityContext)", "Seccomp");
            }
            var dropped = (context?["capabilities"]?["drop"] as JsonArray ?? new JsonArray()).Select(c => Str(c) ?? "");
            if (!dropped.Contains("ALL"))
            {
                Add(where, "securityContext.capabilities.drop must include ALL", "Capabilities");
            }
            foreach (var capability in added.Where(c => c != "NET_BIND_SERVICE"))
            {
                Add(where, $"capabilities.add may only contain NET_BIND_SERVICE, not {capability}", "Capabilities");
            }
        }

        private void CheckAppArmor(string where, JsonNode? profile)
        {
            var type = Str(profile?["type"]);
            if (type is not null && type != "RuntimeDefault" && type != "Localhost")
            {
                Add(where, $"appArmorProfile.type must be RuntimeDefault or Localhost, not {type}", "AppArmor");
            }
        }

        private void CheckSelinux(string where, JsonNode? options)
        {
            if (options is null)
            {
                return;
            }
            var type = Str(options["type"]);
            if (!string.IsNullOrEmpty(type) && !SelinuxTypes.Contains(type))
            {
                Add(where, $"seLinuxOptions.type {type} is not allowed", "SELinux");
            }
            foreach (var field in new[] { "user", "role" })
            {
                if (!string.IsNullOrEmpty(Str(options[field])))
                {
                    Add(where, $"seLinuxOptions.{field} must not be set", "SELinux");
                }
            }
        }
    }

    /// <summary>A string value, or null for anything else (absent, a number, an object...).</summary>
    private static string? Str(JsonNode? node) => node?.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : null;

    private static bool IsTrue(JsonNode? node) => node?.GetValueKind() == JsonValueKind.True;

    private static bool IsFalse(JsonNode? node) => node?.GetValueKind() == JsonValueKind.False;

    private static bool IsZero(JsonNode? node) =>
        node?.GetValueKind() == JsonValueKind.Number
        && double.Parse(node.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture) == 0;
}
