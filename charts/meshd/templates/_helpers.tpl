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
istio: pilot
istio.io/rev: {{ include "meshd.revision" . | quote }}
app.kubernetes.io/name: meshd
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- define "meshd.selectorLabels" -}}
app: istiod
istio.io/rev: {{ include "meshd.revision" . | quote }}
{{- end }}

{{/* Namespaces no webhook of meshd's ever matches: kube-system and meshd's own. */}}
{{- define "meshd.excludedNamespaces" -}}
- key: kubernetes.io/metadata.name
  operator: NotIn
  values: [kube-system, {{ .Release.Namespace | quote }}]
{{- end }}
