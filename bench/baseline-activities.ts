/** The baseline workflow's activities: no I/O, no logic, an answer at once. */
export interface BaselineInput {
  jobId: string;
  credits: number;
}

export function createBaselineActivities() {
  return {
    async generate(_input: BaselineInput): Promise<{ images: number }> {
      return { images: 1 };
    },
    async settle(_input: BaselineInput): Promise<void> {},
  };
}

export type BaselineActivities = ReturnType<typeof createBaselineActivities>;
