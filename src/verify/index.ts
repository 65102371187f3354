/**
 * Math answer verification: extracting answers from model text and deciding whether they
 * equal a gold answer (normalisation, structure, numeric and symbolic equality).
 */
export {
  extractBoxed,
  extractBoxedGroup,
  extractFinalAnswer,
  extractPredictionAnswer,
  lastMathSpan,
  lastNumber,
  FINAL_ANSWER_HEADER,
  type FinalAnswerRule,
  type AnswerSource,
} from './extract.js';
export { normalizeAnswer, answerKey } from './normalize.js';
export {
  verifyAnswer,
  compareAnswers,
  gradeSummary,
  goldAlternatives,
  defaultVerifier,
  MAX_PREDICTION_CHARS,
  MAX_STRUCTURED_ANSWER_CHARS,
  MAX_NORMALIZED_INPUT_CHARS,
  type Verifier,
  type VerifyResult,
  type VerifyOptions,
  type GoldAnswer,
  type SummaryGrade,
  type GradeOptions,
} from './verify.js';
export { parseAnswer, type Answer } from './structure.js';
