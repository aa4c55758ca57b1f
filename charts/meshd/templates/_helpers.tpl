{{/* Name shared by the Deployment, Service and RBAC: istiod, or istiod-<revision>, as Istio names them. */}}
{{- define "meshd.name" -}}
istiod{{- if .Values.revision }}-{{ .Values.revision }}{{- end }}
{{- end }}

{{/* The revision as it appears in istio.io/rev labels. */}}
{{- define "meshd.revision" -}}
{{ .Values.revision | default "default" }}
{{- end }}

{{- define "meshd.labels" -}}
app: istiod
istio.io/rev: {{ include "meshd.revision" . | quote }}
app.kubernetes.io/name: meshd
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: istio
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{/* Pods of the default revision are selected by istio=pilot, a revision's by istio.io/rev (istiod's). */}}
{{- define "meshd.selectorLabels" -}}
app: istiod
{{- if .Values.revision }}
istio.io/rev: {{ .Values.revision | quote }}
{{- else }}
istio: pilot
{{- end }}
{{- end }}

{{/* The Deployment's selector: istiod's, which for the default revision is istio=pilot alone. */}}
{{- define "meshd.deploymentSelector" -}}
{{- if .Values.revision }}
app: istiod
istio.io/rev: {{ .Values.revision | quote }}
{{- else }}
istio: pilot
{{- end }}
{{- end }}

{{/* Which scopes render: global.resourceScope all, or namespace / cluster for split installs. */}}
{{- define "meshd.namespaced" -}}
{{- if has .Values.global.resourceScope (list "all" "namespace") }}true{{ end }}
{{- end }}
{{- define "meshd.clusterScoped" -}}
{{- if has .Values.global.resourceScope (list "all" "cluster") }}true{{ end }}
{{- end }}

{{/* A local control plane: not a remote cluster's pieces (istiodRemote), unless it also injects locally. */}}
{{- define "meshd.local" -}}
{{- if or (not .Values.istiodRemote.enabled) .Values.istiodRemote.enabledLocalInjectorIstiod }}true{{ end }}
{{- end }}

{{/* Objects a remote cluster still needs when it is the config cluster: RBAC, validation. */}}
{{- define "meshd.configCluster" -}}
{{- $remote := .Values.istiodRemote }}
{{- $also := or .Values.global.configCluster $remote.enabledLocalInjectorIstiod }}
{{- if or (not $remote.enabled) $also }}true{{ end }}
{{- end }}

{{/* Resource requirements without empty entries (istiod's rule: a nil request or limit is left out). */}}
{{- define "meshd.resources" -}}
{{- $out := dict }}
{{- range $kind := list "limits" "requests" }}
{{- $set := dict }}
{{- range $name, $v := (index $ $kind | default dict) }}
{{- if $v }}{{ $_ := set $set $name $v }}{{ end }}
{{- end }}
{{- if $set }}{{ $_ := set $out $kind $set }}{{ end }}
{{- end }}
{{- toYaml $out }}
{{- end }}
