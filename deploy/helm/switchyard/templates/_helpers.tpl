{{/* ---------------------------------------------------------------------------------------------
Names
--------------------------------------------------------------------------------------------- */}}

{{- define "switchyard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "switchyard.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* <fullname>-<suffix>, trimmed to 63 characters. Call with (list $ "suffix"). */}}
{{- define "switchyard.suffixed" -}}
{{- $ctx := index . 0 -}}
{{- printf "%s-%s" (include "switchyard.fullname" $ctx | trunc (int (sub 62 (len (index . 1))))) (index . 1) | trimSuffix "-" -}}
{{- end -}}

{{- define "switchyard.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "switchyard.envName" -}}
{{- include "switchyard.suffixed" (list . "env") -}}
{{- end -}}

{{- define "switchyard.configsName" -}}
{{- if .Values.configs.existingConfigMap -}}
{{- .Values.configs.existingConfigMap -}}
{{- else -}}
{{- include "switchyard.suffixed" (list . "configs") -}}
{{- end -}}
{{- end -}}

{{- define "switchyard.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "switchyard.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "switchyard.redisName" -}}
{{- default "redis" .Values.redis.name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "switchyard.redisAuthSecretName" -}}
{{- if .Values.redis.auth.existingSecret -}}
{{- .Values.redis.auth.existingSecret -}}
{{- else -}}
{{- include "switchyard.suffixed" (list . "redis-auth") -}}
{{- end -}}
{{- end -}}

{{- define "switchyard.externalSecretName" -}}
{{- default (include "switchyard.suffixed" (list . "external")) .Values.externalSecret.name -}}
{{- end -}}

{{- define "switchyard.externalSecretTarget" -}}
{{- default (include "switchyard.externalSecretName" .) .Values.externalSecret.target.name -}}
{{- end -}}

{{/* ---------------------------------------------------------------------------------------------
Labels. Call the component-aware ones with (dict "ctx" $ "component" "gateway").
--------------------------------------------------------------------------------------------- */}}

{{- define "switchyard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "switchyard.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/*
Labels of every object as YAML: the standard set (with app.kubernetes.io/component when given), commonLabels,
then the optional "extra" map. The standard labels win over both, so a selector label cannot be overridden.
*/}}
{{- define "switchyard.labels" -}}
{{- $ctx := .ctx -}}
{{- $l := dict "helm.sh/chart" (include "switchyard.chart" $ctx) "app.kubernetes.io/name" (include "switchyard.name" $ctx) "app.kubernetes.io/instance" $ctx.Release.Name "app.kubernetes.io/version" (toString $ctx.Chart.AppVersion) "app.kubernetes.io/part-of" "switchyard" "app.kubernetes.io/managed-by" $ctx.Release.Service -}}
{{- if .component -}}{{- $_ := set $l "app.kubernetes.io/component" .component -}}{{- end -}}
{{- range $k, $v := (default dict $ctx.Values.commonLabels) -}}
{{- if not (hasKey $l $k) -}}{{- $_ := set $l $k (toString $v) -}}{{- end -}}
{{- end -}}
{{- range $k, $v := (default dict .extra) -}}
{{- if not (hasKey $l $k) -}}{{- $_ := set $l $k (toString $v) -}}{{- end -}}
{{- end -}}
{{- toYaml $l -}}
{{- end -}}

{{/* A string map as YAML, values as strings ("" when empty). */}}
{{- define "switchyard.stringMap" -}}
{{- $m := dict -}}
{{- range $k, $v := . -}}{{- $_ := set $m $k (ternary "" (toString $v) (kindIs "invalid" $v)) -}}{{- end -}}
{{- if $m -}}{{- toYaml $m -}}{{- end -}}
{{- end -}}

{{/* ---------------------------------------------------------------------------------------------
Environment-derived settings. Values from environment.data may be strings, numbers, booleans or null.
--------------------------------------------------------------------------------------------- */}}

{{- define "switchyard.envData" -}}
{{- toJson (default dict .Values.environment.data) -}}
{{- end -}}

{{/* The string value of one environment.data key ("" when unset or null). Call with (list $ "KEY"). */}}
{{- define "switchyard.envValue" -}}
{{- $data := default dict (index . 0).Values.environment.data -}}
{{- $v := index $data (index . 1) -}}
{{- if not (kindIs "invalid" $v) -}}{{- toString $v -}}{{- end -}}
{{- end -}}

{{- define "switchyard.hasEnv" -}}
{{- $data := default dict (index . 0).Values.environment.data -}}
{{- if hasKey $data (index . 1) -}}{{- if ne (include "switchyard.envValue" .) "" -}}true{{- end -}}{{- end -}}
{{- end -}}

{{- define "switchyard.serverMode" -}}
{{- $mode := include "switchyard.envValue" (list . "SERVER_MODE") | trim | lower -}}
{{- if not (has $mode (list "" "mcp" "all")) -}}
{{- fail (printf "environment.data.SERVER_MODE=%q is not valid: use \"\" (AI gateway only), \"mcp\" (MCP gateway only) or \"all\" (both)" $mode) -}}
{{- end -}}
{{- $mode -}}
{{- end -}}

{{/* "true" when the AI gateway listener is on (SERVER_MODE "" or "all"). */}}
{{- define "switchyard.gatewayOn" -}}
{{- $mode := include "switchyard.serverMode" . -}}
{{- if or (eq $mode "") (eq $mode "all") -}}true{{- end -}}
{{- end -}}

{{/* "true" when the MCP listener is on (SERVER_MODE "mcp" or "all"). */}}
{{- define "switchyard.mcpOn" -}}
{{- $mode := include "switchyard.serverMode" . -}}
{{- if or (eq $mode "mcp") (eq $mode "all") -}}true{{- end -}}
{{- end -}}

{{- define "switchyard.httpPort" -}}
{{- $env := include "switchyard.envValue" (list . "PORT") -}}
{{- $svc := .Values.service.containerPort -}}
{{- if and $env $svc (ne (int $env) (int $svc)) -}}
{{- fail (printf "service.containerPort (%v) and environment.data.PORT (%s) differ: set one of them" $svc $env) -}}
{{- end -}}
{{- if $env -}}{{- int $env -}}{{- else if $svc -}}{{- int $svc -}}{{- else -}}8787{{- end -}}
{{- end -}}

{{- define "switchyard.mcpPort" -}}
{{- $env := include "switchyard.envValue" (list . "MCP_PORT") -}}
{{- if $env -}}{{- int $env -}}{{- else -}}8788{{- end -}}
{{- end -}}

{{/* The metrics port when METRICS_PORT is set, else "". */}}
{{- define "switchyard.metricsPort" -}}
{{- $env := include "switchyard.envValue" (list . "METRICS_PORT") -}}
{{- if $env -}}{{- int $env -}}{{- end -}}
{{- end -}}

{{/* The port the probes use when they name none: the gateway port, or the MCP port in mcp-only mode. */}}
{{- define "switchyard.probePort" -}}
{{- if include "switchyard.gatewayOn" . -}}
{{- include "switchyard.httpPort" . -}}
{{- else -}}
{{- include "switchyard.mcpPort" . -}}
{{- end -}}
{{- end -}}

{{/* "true" when the built-in Redis is rendered. */}}
{{- define "switchyard.redisOn" -}}
{{- $store := include "switchyard.envValue" (list . "CACHE_STORE") | trim | lower -}}
{{- if and (eq $store "redis") (ne (toString .Values.redis.enabled) "false") -}}true{{- end -}}
{{- end -}}

{{/* "true" when routing configs are mounted. */}}
{{/* "true" when the MCP servers directory is mounted (mcp.servers or mcp.serversConfigMap); fails outside the MCP modes. */}}
{{- define "switchyard.mcpServersOn" -}}
{{- if or .Values.mcp.servers .Values.mcp.serversConfigMap -}}
{{- if not (include "switchyard.mcpOn" .) -}}
{{- fail "mcp.servers / mcp.serversConfigMap are set but SERVER_MODE runs the AI gateway only: set environment.data.SERVER_MODE to mcp or all, or remove them" -}}
{{- end -}}
true
{{- end -}}
{{- end -}}

{{- define "switchyard.mcpServersName" -}}
{{- if .Values.mcp.serversConfigMap -}}
{{- .Values.mcp.serversConfigMap -}}
{{- else -}}
{{- include "switchyard.suffixed" (list . "mcp-servers") -}}
{{- end -}}
{{- end -}}

{{- define "switchyard.configsOn" -}}
{{- if or .Values.configs.existingConfigMap .Values.configs.files -}}true{{- end -}}
{{- end -}}

{{/* "true" when more than one gateway replica can exist (replicaCount > 1, or autoscaling on). */}}
{{- define "switchyard.multiReplica" -}}
{{- if .Values.autoscaling.enabled -}}true{{- else if gt (int .Values.replicaCount) 1 -}}true{{- end -}}
{{- end -}}

{{/* "true" when at least two gateway replicas always run (replicaCount > 1, or autoscaling minReplicas > 1). */}}
{{- define "switchyard.alwaysMultiReplica" -}}
{{- if .Values.autoscaling.enabled -}}
{{- if gt (int .Values.autoscaling.minReplicas) 1 -}}true{{- end -}}
{{- else if gt (int .Values.replicaCount) 1 -}}true{{- end -}}
{{- end -}}

{{/* ---------------------------------------------------------------------------------------------
Images
--------------------------------------------------------------------------------------------- */}}

{{/* repository[:tag][@digest]. Call with (dict "image" .Values.gatewayImage "default" .Chart.AppVersion). */}}
{{- define "switchyard.image" -}}
{{- $tag := default .default .image.tag | toString -}}
{{- $ref := .image.repository -}}
{{- if $tag -}}{{- $ref = printf "%s:%s" $ref $tag -}}{{- end -}}
{{- if .image.digest -}}{{- $ref = printf "%s@%s" $ref .image.digest -}}{{- end -}}
{{- $ref -}}
{{- end -}}

{{/* imagePullSecrets of the pods: imagePullSecrets (strings or {name}) and every imageCredentials name. */}}
{{- define "switchyard.imagePullSecrets" -}}
{{- $names := list -}}
{{- range .Values.imagePullSecrets -}}
{{- if kindIs "map" . -}}{{- $names = append $names .name -}}{{- else -}}{{- $names = append $names (toString .) -}}{{- end -}}
{{- end -}}
{{- range .Values.imageCredentials -}}
{{- $names = append $names .name -}}
{{- end -}}
{{- $names = $names | compact | uniq -}}
{{- if $names }}
imagePullSecrets:
{{- range $names }}
  - name: {{ . }}
{{- end }}
{{- end -}}
{{- end -}}

{{/* ---------------------------------------------------------------------------------------------
Checksums that roll the gateway pods when their environment changes.
--------------------------------------------------------------------------------------------- */}}

{{- define "switchyard.envChecksum" -}}
{{- $e := .Values.environment -}}
{{- dict "create" $e.create "secret" $e.secret "existingSecret" $e.existingSecret "secretKeys" $e.secretKeys "data" (default dict $e.data) | toJson | sha256sum -}}
{{- end -}}

{{- define "switchyard.configsChecksum" -}}
{{- dict "files" .Values.configs.files "existingConfigMap" .Values.configs.existingConfigMap | toJson | sha256sum -}}
{{- end -}}

{{/* A probe with the port filled in when the probe names none. Call with (dict "probe" $probe "port" $port). */}}
{{- define "switchyard.probe" -}}
{{- $p := deepCopy .probe -}}
{{- $_ := unset $p "enabled" -}}
{{- range $kind := list "httpGet" "tcpSocket" "grpc" -}}
{{- if hasKey $p $kind -}}
{{- $h := default dict (index $p $kind) -}}
{{- if not $h.port -}}{{- $_ := set $h "port" (int $.port) -}}{{- end -}}
{{- $_ := set $p $kind $h -}}
{{- end -}}
{{- end -}}
{{- toYaml $p -}}
{{- end -}}
