{{/*
The gateway container's env list (without the "env:" key), "" when there is nothing to set:
every environment.data key (from the chart's Secret/ConfigMap, from existingSecret for secretKeys, else literal),
then what the chart derives (LIMITS_REPLICAS, PORT, CONFIG_DIR, REDIS_URL, REDIS_PASSWORD) unless environment.data already has it,
then extraEnv.
*/}}
{{- define "switchyard.gatewayEnv" -}}
{{- $env := .Values.environment -}}
{{- $data := default dict $env.data -}}
{{- $envName := include "switchyard.envName" . -}}
{{- range $key, $value := $data }}
- name: {{ $key }}
{{- if $env.create }}
  valueFrom:
    {{- if $env.secret }}
    secretKeyRef:
    {{- else }}
    configMapKeyRef:
    {{- end }}
      name: {{ $envName }}
      key: {{ $key }}
{{- else if and $env.existingSecret (has $key (default list $env.secretKeys)) }}
  valueFrom:
    secretKeyRef:
      name: {{ $env.existingSecret }}
      key: {{ $key }}
{{- else }}
  value: {{ ternary "" (toString $value) (kindIs "invalid" $value) | quote }}
{{- end }}
{{- end }}
{{- if not $env.create }}
{{- range $env.secretKeys }}
{{- if not (hasKey $data .) }}
- name: {{ . }}
  valueFrom:
    secretKeyRef:
      name: {{ $env.existingSecret }}
      key: {{ . }}
{{- end }}
{{- end }}
{{- end }}
{{- if not (include "switchyard.hasEnv" (list . "LIMITS_REPLICAS")) }}
{{- /* Each replica's share of a limit while Redis is unreachable: the most replicas that can run, so the shares never add up past the limit. */}}
- name: LIMITS_REPLICAS
  value: {{ ternary .Values.autoscaling.maxReplicas .Values.replicaCount (and .Values.autoscaling .Values.autoscaling.enabled) | toString | quote }}
{{- end }}
{{- if and .Values.service.containerPort (include "switchyard.gatewayOn" .) (not (include "switchyard.hasEnv" (list . "PORT"))) }}
- name: PORT
  value: {{ include "switchyard.httpPort" . | quote }}
{{- end }}
{{- if and (include "switchyard.configsOn" .) (not (hasKey $data "CONFIG_DIR")) }}
- name: CONFIG_DIR
  value: {{ .Values.configs.mountPath | quote }}
{{- end }}
{{- if and (include "switchyard.mcpServersOn" .) (not (hasKey $data "MCP_SERVERS_PATH")) (not (hasKey $data "SERVERS_CONFIG_PATH")) }}
- name: MCP_SERVERS_PATH
  value: {{ .Values.mcp.mountPath | quote }}
{{- end }}
{{- if include "switchyard.redisOn" . }}
{{- if not (or (include "switchyard.hasEnv" (list . "REDIS_URL")) (include "switchyard.hasEnv" (list . "REDIS_HOST")) (include "switchyard.hasEnv" (list . "REDIS_CLUSTER_ENDPOINTS"))) }}
- name: REDIS_URL
  value: {{ printf "redis://%s:%v" (include "switchyard.redisName" .) .Values.redis.servicePort | quote }}
{{- end }}
{{- if and .Values.redis.auth.enabled (not (hasKey $data "REDIS_PASSWORD")) }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "switchyard.redisAuthSecretName" . }}
      key: {{ include "switchyard.redisAuthKey" . }}
{{- end }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "switchyard.redisAuthKey" -}}
{{- if .Values.redis.auth.existingSecret -}}
{{- default "redis-password" .Values.redis.auth.existingSecretKey -}}
{{- else -}}
redis-password
{{- end -}}
{{- end -}}

{{/* An emptyDir body from {medium, sizeLimit}. */}}
{{- define "switchyard.emptyDir" -}}
{{- $d := dict -}}
{{- with .medium }}{{ $_ := set $d "medium" . }}{{ end -}}
{{- with .sizeLimit }}{{ $_ := set $d "sizeLimit" (toString .) }}{{ end -}}
{{- toYaml $d -}}
{{- end -}}
